package fetch

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
)

// scriptedIMAP is a minimal IMAP server for login tests: it announces
// caps, accepts every LOGIN and AUTHENTICATE (recording what the client
// sent, SASL responses decoded), and serves an empty INBOX.
type scriptedIMAP struct {
	addr string
	mu   sync.Mutex
	seen []string
}

func (f *scriptedIMAP) record(s string) {
	f.mu.Lock()
	f.seen = append(f.seen, s)
	f.mu.Unlock()
}

func (f *scriptedIMAP) log() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.seen, "\n")
}

func newScriptedIMAP(t *testing.T, caps string) *scriptedIMAP {
	t.Helper()
	f := &scriptedIMAP{}
	decode := func(s string) string {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
		if err != nil {
			return "undecodable " + s
		}
		return string(b)
	}
	f.addr = serveLoopback(t, nil, func(c net.Conn) {
		defer c.Close()
		br := bufio.NewReader(c)
		fmt.Fprintf(c, "* OK [CAPABILITY IMAP4rev1 %s] fake\r\n", caps)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			f2 := strings.Fields(line)
			if len(f2) < 2 {
				return
			}
			tag, cmd := f2[0], strings.ToUpper(f2[1])
			switch cmd {
			case "CAPABILITY":
				fmt.Fprintf(c, "* CAPABILITY IMAP4rev1 %s\r\n%s OK done\r\n", caps, tag)
			case "LOGIN":
				f.record("LOGIN " + strings.Join(f2[2:], " "))
				fmt.Fprintf(c, "%s OK logged in\r\n", tag)
			case "AUTHENTICATE":
				mech := strings.ToUpper(f2[2])
				if len(f2) > 3 {
					f.record("AUTHENTICATE " + mech + " IR " + decode(f2[3]))
				} else {
					chal := ""
					if mech == "CRAM-MD5" {
						chal = base64.StdEncoding.EncodeToString([]byte("<1.2@fake>"))
					}
					fmt.Fprintf(c, "+ %s\r\n", chal)
					resp, err := br.ReadString('\n')
					if err != nil {
						return
					}
					f.record("AUTHENTICATE " + mech + " " + decode(resp))
				}
				fmt.Fprintf(c, "%s OK authenticated\r\n", tag)
			case "SELECT", "EXAMINE":
				fmt.Fprintf(c, "* 0 EXISTS\r\n* OK [UIDVALIDITY 7] v\r\n* OK [UIDNEXT 1] n\r\n%s OK [READ-WRITE] selected\r\n", tag)
			case "LOGOUT":
				fmt.Fprintf(c, "* BYE bye\r\n%s OK bye\r\n", tag)
				return
			default:
				fmt.Fprintf(c, "%s BAD unknown\r\n", tag)
			}
		}
	})
	return f
}

func TestIMAPAuthMethods(t *testing.T) {
	cases := []struct {
		name, caps, auth string
		status           Status
		want             string // in what the server saw
	}{
		{"oauthbearer", "AUTH=OAUTHBEARER AUTH=XOAUTH2 SASL-IR", "oauthbearer", StatusNoMail, "AUTHENTICATE OAUTHBEARER IR n,a=msingh,\x01host=127.0.0.1\x01port="},
		{"xoauth2 only", "AUTH=XOAUTH2 SASL-IR", "oauthbearer", StatusNoMail, "AUTHENTICATE XOAUTH2 IR user=msingh\x01auth=Bearer s3cret\x01\x01"},
		{"oauthbearer no SASL-IR", "AUTH=OAUTHBEARER", "oauthbearer", StatusNoMail, "auth=Bearer s3cret"},
		{"cram-md5 first", "AUTH=CRAM-MD5 AUTH=PLAIN", "any", StatusNoMail, "AUTHENTICATE CRAM-MD5 msingh "},
		{"password: LOGIN", "AUTH=CRAM-MD5 AUTH=PLAIN", "password", StatusNoMail, "LOGIN \"msingh\" \"s3cret\""},
		{"LOGINDISABLED: PLAIN", "AUTH=PLAIN LOGINDISABLED", "password", StatusNoMail, "AUTHENTICATE PLAIN \x00msingh\x00s3cret"},
		{"LOGINDISABLED, nothing else", "LOGINDISABLED", "password", StatusAuthFail, ""},
		{"external not offered", "AUTH=PLAIN", "external", StatusAuthFail, ""},
		{"external", "AUTH=EXTERNAL SASL-IR", "external", StatusNoMail, "AUTHENTICATE EXTERNAL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newScriptedIMAP(t, c.caps)
			e := newIMAPEnv(t, nil, "")
			e.srv.Close()
			e.rejobAt(t, f.addr, "imap", "")
			e.job.Server.Auth = c.auth
			pw := "s3cret"
			e.job.User.Password = &pw
			res := e.poll(t)
			if res.Status != c.status {
				t.Fatalf("status %d, want %d: %v\nserver saw:\n%q\n%s", res.Status, c.status, res.Err, f.log(), e.log)
			}
			if c.want != "" && !strings.Contains(f.log(), c.want) {
				t.Errorf("server saw %q, want %q in it", f.log(), c.want)
			}
			if c.want == "" && f.log() != "" {
				t.Errorf("credentials were sent: %q", f.log())
			}
			if strings.Contains(e.log.String(), "s3cret") {
				t.Errorf("the secret is in the log:\n%s", e.log)
			}
		})
	}
}

package fetch

import (
	"bufio"
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Servers that echo a login back in their refusal: -ERR / NO quoting the
// password, its base64, the whole SASL response raw and in base64. None of
// it may reach the log or the poll's error at -v (issue 14.2).

const echoPW = "Pass w0rd!"

// echoed records what a scripted server put in its refusals, so that a test
// can check the echo really happened.
type echoed struct {
	mu  sync.Mutex
	out []string
}

func (e *echoed) add(s string) string {
	e.mu.Lock()
	e.out = append(e.out, s)
	e.mu.Unlock()
	return s
}

func (e *echoed) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.out, "\n")
}

// echoOf renders a client's SASL response every way a server might quote
// it: as sent (base64), decoded with NULs and ^A shown as ^@/^A, and
// decoded raw.
func echoOf(b64 string) string {
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	shown := strings.NewReplacer("\x00", "^@", "\x01", "^A").Replace(string(raw))
	return fmt.Sprintf("you sent %s which is %q or %s", strings.TrimSpace(b64), string(raw), shown)
}

// newEchoPOP3 is a POP3 server offering USER, APOP and the SASL mechanisms
// of sasl, refusing every login with a -ERR that echoes it.
func newEchoPOP3(t *testing.T, sasl string, ech *echoed) string {
	t.Helper()
	return serveLoopback(t, nil, func(c net.Conn) {
		defer c.Close()
		br := bufio.NewReader(c)
		fmt.Fprintf(c, "+OK ready <1.2@echo>\r\n")
		refuse := func(s string) { fmt.Fprintf(c, "-ERR %s\r\n", ech.add(s)) }
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			f := strings.Fields(line)
			if len(f) == 0 {
				return
			}
			switch strings.ToUpper(f[0]) {
			case "CAPA":
				fmt.Fprintf(c, "+OK\r\nUSER\r\nSASL %s\r\n.\r\n", sasl)
			case "USER":
				fmt.Fprintf(c, "+OK\r\n")
			case "PASS", "APOP":
				arg := strings.TrimPrefix(line, f[0]+" ")
				refuse(fmt.Sprintf("%s %s (base64 %s) refused", f[0], arg, base64.StdEncoding.EncodeToString([]byte(arg))))
			case "AUTH":
				var sent []string
				if len(f) > 2 {
					sent = append(sent, f[2])
				} else {
					chal := []string{""}
					switch strings.ToUpper(f[1]) {
					case "CRAM-MD5":
						chal = []string{base64.StdEncoding.EncodeToString([]byte("<1.2@echo>"))}
					case "LOGIN":
						chal = []string{"VXNlcm5hbWU6", "UGFzc3dvcmQ6"}
					}
					for _, ch := range chal {
						fmt.Fprintf(c, "+ %s\r\n", ch)
						resp, err := br.ReadString('\n')
						if err != nil {
							return
						}
						sent = append(sent, strings.TrimSpace(resp))
					}
				}
				var parts []string
				for _, s := range sent {
					parts = append(parts, echoOf(s))
				}
				refuse("AUTH " + f[1] + ": " + strings.Join(parts, "; "))
			case "QUIT":
				fmt.Fprintf(c, "+OK bye\r\n")
				return
			default:
				fmt.Fprintf(c, "-ERR unknown\r\n")
			}
		}
	})
}

// newEchoIMAP is an IMAP server refusing every LOGIN and AUTHENTICATE
// with a NO that echoes what the client sent.
func newEchoIMAP(t *testing.T, caps string, ech *echoed) string {
	t.Helper()
	return serveLoopback(t, nil, func(c net.Conn) {
		defer c.Close()
		br := bufio.NewReader(c)
		fmt.Fprintf(c, "* OK [CAPABILITY IMAP4rev1 %s] echo\r\n", caps)
		readLine := func() (string, error) {
			line, err := br.ReadString('\n')
			for err == nil && strings.HasSuffix(line, "}\r\n") {
				i := strings.LastIndexByte(line, '{')
				n, _ := strconv.Atoi(strings.TrimSuffix(line[i+1:len(line)-3], "+"))
				if !strings.HasSuffix(line, "+}\r\n") {
					fmt.Fprintf(c, "+ go on\r\n")
				}
				lit := make([]byte, n)
				if _, err = io.ReadFull(br, lit); err != nil {
					return "", err
				}
				var rest string
				rest, err = br.ReadString('\n')
				line = line[:i] + `"` + string(lit) + `"` + rest
			}
			return strings.TrimRight(line, "\r\n"), err
		}
		for {
			line, err := readLine()
			if err != nil {
				return
			}
			f := strings.Fields(line)
			if len(f) < 2 {
				return
			}
			tag, cmd := f[0], strings.ToUpper(f[1])
			refuse := func(s string) { fmt.Fprintf(c, "%s NO %s\r\n", tag, ech.add(s)) }
			switch cmd {
			case "CAPABILITY":
				fmt.Fprintf(c, "* CAPABILITY IMAP4rev1 %s\r\n%s OK done\r\n", caps, tag)
			case "LOGIN":
				refuse("LOGIN " + strings.Join(f[2:], " ") + " refused")
			case "AUTHENTICATE":
				var sent []string
				if len(f) > 3 {
					sent = append(sent, f[3])
				} else {
					chal := []string{""}
					switch strings.ToUpper(f[2]) {
					case "CRAM-MD5":
						chal = []string{base64.StdEncoding.EncodeToString([]byte("<1.2@echo>"))}
					case "LOGIN":
						chal = []string{"", "UGFzc3dvcmQ6"} // the user name (the IR), then the password
					}
					for _, ch := range chal {
						fmt.Fprintf(c, "+ %s\r\n", ch)
						resp, err := br.ReadString('\n')
						if err != nil {
							return
						}
						sent = append(sent, strings.TrimSpace(resp))
					}
				}
				var parts []string
				for _, s := range sent {
					parts = append(parts, echoOf(s))
				}
				refuse("AUTHENTICATE " + f[2] + ": " + strings.Join(parts, "; "))
			case "LOGOUT":
				fmt.Fprintf(c, "* BYE bye\r\n%s OK bye\r\n", tag)
				return
			default:
				fmt.Fprintf(c, "%s BAD unknown\r\n", tag)
			}
		}
	})
}

// secretForms are the strings that must never be in a log: the password,
// its base64, and each SASL response that carries it, raw and base64.
func secretForms(user, pw string) []string {
	b := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	m := hmac.New(md5.New, []byte(pw))
	m.Write([]byte("<1.2@echo>"))
	digest := hex.EncodeToString(m.Sum(nil))
	apop := md5.Sum([]byte("<1.2@echo>" + pw))
	forms := []string{pw, b(pw), digest, b(user + " " + digest), hex.EncodeToString(apop[:])}
	for _, resp := range []string{"\x00" + user + "\x00" + pw, "user=" + user + "\x01auth=Bearer " + pw + "\x01\x01"} {
		forms = append(forms, resp, b(resp), strings.NewReplacer("\x00", "^@", "\x01", "^A").Replace(resp))
	}
	return forms
}

func checkNoSecret(t *testing.T, what string, texts ...string) {
	t.Helper()
	all := strings.Join(texts, "\n")
	for _, f := range secretForms("msingh", echoPW) {
		if strings.Contains(all, f) {
			t.Errorf("%s: %q reached the log:\n%s", what, f, all)
		}
	}
}

// TestEchoedCredentialsPOP3: a POP3 server echoing USER/PASS, APOP, AUTH
// PLAIN, LOGIN, CRAM-MD5, OAUTHBEARER and XOAUTH2 (one- and two-step) in
// its -ERR gets none of it into the -v log or the poll's error.
func TestEchoedCredentialsPOP3(t *testing.T) {
	cases := []struct{ name, sasl, auth, proto string }{
		{"USER/PASS", "", "password", "pop3"},
		{"APOP", "", "any", "apop"},
		{"PLAIN then LOGIN", "PLAIN LOGIN", "password", "pop3"},
		{"CRAM-MD5", "CRAM-MD5", "cram-md5", "pop3"},
		{"OAUTHBEARER", "OAUTHBEARER", "oauthbearer", "pop3"},
		{"XOAUTH2", "XOAUTH2", "oauthbearer", "pop3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ech := &echoed{}
			addr := newEchoPOP3(t, c.sasl, ech)
			e := newTestEnv(t, nil, nil)
			e.job = testJob(t, addr)
			e.job.User.Maildir = &e.maildir
			e.job.Server.Protocol = strings.ToUpper(c.proto)
			e.job.Server.Auth = c.auth
			pw := echoPW
			e.job.User.Password = &pw
			res := e.poll(t)
			if res.Status != StatusAuthFail {
				t.Fatalf("status %d (%v), want %d\n%s", res.Status, res.Err, StatusAuthFail, e.log)
			}
			if !strings.Contains(ech.String(), "refused") && !strings.Contains(ech.String(), "you sent") {
				t.Fatalf("the server echoed nothing: %q", ech)
			}
			errText := ""
			if res.Err != nil {
				errText = res.Err.Error()
			}
			checkNoSecret(t, c.name, e.log.String(), errText)
		})
	}
}

// TestEchoedCredentialsIMAP is the IMAP side: LOGIN, AUTHENTICATE PLAIN,
// LOGIN, CRAM-MD5, OAUTHBEARER, XOAUTH2, with and without SASL-IR.
func TestEchoedCredentialsIMAP(t *testing.T) {
	cases := []struct{ name, caps, auth string }{
		{"LOGIN", "AUTH=PLAIN", "password"},
		{"AUTHENTICATE PLAIN", "AUTH=PLAIN LOGINDISABLED SASL-IR", "password"},
		{"AUTHENTICATE PLAIN, LOGIN", "AUTH=PLAIN AUTH=LOGIN LOGINDISABLED", "password"},
		{"CRAM-MD5", "AUTH=CRAM-MD5", "cram-md5"},
		{"OAUTHBEARER", "AUTH=OAUTHBEARER SASL-IR", "oauthbearer"},
		{"XOAUTH2", "AUTH=XOAUTH2", "oauthbearer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ech := &echoed{}
			addr := newEchoIMAP(t, c.caps, ech)
			e := newIMAPEnv(t, nil, "")
			e.srv.Close()
			e.rejobAt(t, addr, "imap", "")
			e.job.Server.Auth = c.auth
			pw := echoPW
			e.job.User.Password = &pw
			res := e.poll(t)
			if res.Status != StatusAuthFail {
				t.Fatalf("status %d (%v), want %d\n%s", res.Status, res.Err, StatusAuthFail, e.log)
			}
			if ech.String() == "" {
				t.Fatal("the server echoed nothing")
			}
			errText := ""
			if res.Err != nil {
				errText = res.Err.Error()
			}
			checkNoSecret(t, c.name, e.log.String(), errText)
		})
	}
}

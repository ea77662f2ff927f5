package fetch

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gofetchmail/gofetchmail/imap"
	"github.com/gofetchmail/gofetchmail/pop3"
)

// loginServer is a scripted POP3 or IMAP server for the login plan: it
// offers mechs (and SASL-IR, for IMAP), records each login attempt as a
// label ("OWN" for USER/PASS or LOGIN, a mechanism name, "XOAUTH2 +" when
// XOAUTH2's token came after the empty challenge rather than with the
// command) and answers it as refuse says: "" accepts, "-" refuses without
// a response code, "AUTH" refuses the credentials ([AUTH], RFC 3206;
// [AUTHENTICATIONFAILED], RFC 5530). After a login it serves an empty
// mailbox.
type loginServer struct {
	mu   sync.Mutex
	seen []string
}

func (l *loginServer) record(s string) {
	l.mu.Lock()
	l.seen = append(l.seen, s)
	l.mu.Unlock()
}

func (l *loginServer) attempts() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.seen)
}

func serveLogin(t *testing.T, proto string, mechs []string, refuse func(label, resp string) string) (*loginServer, string) {
	t.Helper()
	l := &loginServer{}
	b64 := base64.StdEncoding
	addr := serveLoopback(t, nil, func(c net.Conn) {
		defer c.Close()
		br := bufio.NewReader(c)
		read := func() (string, bool) {
			line, err := br.ReadString('\n')
			return strings.TrimRight(line, "\r\n"), err == nil
		}
		// sasl runs one exchange after the command; ir is the initial
		// response on the command line ("" for none). It returns the
		// label and every client message, decoded.
		sasl := func(cont, mech, ir string) (string, string, bool) {
			label, msgs := mech, ""
			want := 1
			if mech == "LOGIN" {
				want = 2
			}
			if ir != "" {
				if ir == "=" {
					ir = ""
				}
				d, _ := b64.DecodeString(ir)
				msgs += string(d)
				want--
			} else if mech == "XOAUTH2" {
				label = "XOAUTH2 +"
			}
			for ; want > 0; want-- {
				chal := ""
				switch mech {
				case "CRAM-MD5":
					chal = b64.EncodeToString([]byte("<1.2@fake>"))
				case "LOGIN":
					chal = b64.EncodeToString([]byte("Password:"))
				}
				fmt.Fprintf(c, "%s %s\r\n", cont, chal)
				line, ok := read()
				if !ok {
					return "", "", false
				}
				d, _ := b64.DecodeString(line)
				msgs += string(d)
			}
			return label, msgs, true
		}
		if proto == "pop3" {
			fmt.Fprintf(c, "+OK ready\r\n")
			for {
				line, ok := read()
				if !ok {
					return
				}
				f := strings.Fields(line)
				if len(f) == 0 {
					return
				}
				answer := func(label, msgs string) {
					l.record(label)
					switch refuse(label, msgs) {
					case "":
						fmt.Fprintf(c, "+OK logged in\r\n")
					case "-":
						fmt.Fprintf(c, "-ERR no\r\n")
					default:
						fmt.Fprintf(c, "-ERR [AUTH] wrong credentials\r\n")
					}
				}
				switch strings.ToUpper(f[0]) {
				case "CAPA":
					fmt.Fprintf(c, "+OK\r\nUSER\r\nUIDL\r\nSASL %s\r\n.\r\n", strings.Join(mechs, " "))
				case "USER":
					fmt.Fprintf(c, "+OK\r\n")
				case "PASS":
					answer("OWN", strings.TrimPrefix(line, "PASS "))
				case "AUTH":
					ir := ""
					if len(f) > 2 {
						ir = f[2]
					}
					label, msgs, ok := sasl("+", strings.ToUpper(f[1]), ir)
					if !ok {
						return
					}
					answer(label, msgs)
				case "STAT":
					fmt.Fprintf(c, "+OK 0 0\r\n")
				case "UIDL", "LIST":
					fmt.Fprintf(c, "+OK\r\n.\r\n")
				case "QUIT":
					fmt.Fprintf(c, "+OK bye\r\n")
					return
				default:
					fmt.Fprintf(c, "-ERR unknown\r\n")
				}
			}
		}
		caps := "IMAP4rev1 SASL-IR"
		for _, m := range mechs {
			caps += " AUTH=" + m
		}
		fmt.Fprintf(c, "* OK [CAPABILITY %s] ready\r\n", caps)
		for {
			line, ok := read()
			if !ok {
				return
			}
			f := strings.Fields(line)
			if len(f) < 2 {
				return
			}
			tag := f[0]
			answer := func(label, msgs string) {
				l.record(label)
				switch refuse(label, msgs) {
				case "":
					fmt.Fprintf(c, "%s OK logged in\r\n", tag)
				case "-":
					fmt.Fprintf(c, "%s NO no\r\n", tag)
				default:
					fmt.Fprintf(c, "%s NO [AUTHENTICATIONFAILED] wrong credentials\r\n", tag)
				}
			}
			switch strings.ToUpper(f[1]) {
			case "CAPABILITY":
				fmt.Fprintf(c, "* CAPABILITY %s\r\n%s OK done\r\n", caps, tag)
			case "LOGIN":
				answer("OWN", strings.Join(f[2:], " "))
			case "AUTHENTICATE":
				ir := ""
				if len(f) > 3 {
					ir = f[3]
				}
				label, msgs, ok := sasl("+", strings.ToUpper(f[2]), ir)
				if !ok {
					return
				}
				answer(label, msgs)
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
	return l, addr
}

// fakeTokens is a managed OAuth2 grant: a stored token, then a refreshed
// one.
type fakeTokens struct{ refreshed int }

func (f *fakeTokens) AccessToken(context.Context) (string, bool, error) {
	return "stale-token", false, nil
}
func (f *fakeTokens) Refresh(context.Context) (string, error) {
	f.refreshed++
	return "fresh-token", nil
}

// TestLoginPlanBothProtocols runs one auth fallback table against POP3 and
// IMAP: the order of methods for each auth setting, the fallback after a
// refusal without a response code, the end of the login after a refusal
// of the credentials, OAUTHBEARER and XOAUTH2 (Microsoft's two-step form),
// and the refresh of a refused stored token. Where the protocols differ,
// the difference is written in the row (imap).
func TestLoginPlanBothProtocols(t *testing.T) {
	refuseLabels := func(code string, labels ...string) func(string, string) string {
		return func(label, _ string) string {
			if slices.Contains(labels, label) {
				return code
			}
			return ""
		}
	}
	accept := refuseLabels("")
	cases := []struct {
		name      string
		auth      string
		mechs     []string
		refuse    func(label, resp string) string
		microsoft bool     // oauthprovider microsoft, tokens managed by the program
		managed   bool     // tokens managed by the program (fakeTokens)
		want      []string // the attempts, in order
		imap      []string // IMAP's attempts where they differ (nil: as want)
		status    Status
	}{
		{"any: CRAM-MD5 first", "any", []string{"CRAM-MD5", "PLAIN"}, accept, false, false, []string{"CRAM-MD5"}, nil, StatusNoMail},
		{"any: CRAM-MD5 refused, the protocol's login", "any", []string{"CRAM-MD5", "PLAIN"}, refuseLabels("-", "CRAM-MD5"), false, false, []string{"CRAM-MD5", "OWN"}, nil, StatusNoMail},
		{"any: credentials refused end the login", "any", []string{"CRAM-MD5", "PLAIN"}, refuseLabels("AUTH", "CRAM-MD5"), false, false, []string{"CRAM-MD5"}, nil, StatusAuthFail},
		{"password: own login, then PLAIN", "password", []string{"CRAM-MD5", "PLAIN", "LOGIN"}, refuseLabels("-", "OWN"), false, false, []string{"OWN", "PLAIN"}, nil, StatusNoMail},
		{"password: then LOGIN", "password", []string{"PLAIN", "LOGIN"}, refuseLabels("-", "OWN", "PLAIN"), false, false, []string{"OWN", "PLAIN", "LOGIN"}, nil, StatusNoMail},
		{"password: all refused", "password", []string{"PLAIN"}, refuseLabels("-", "OWN", "PLAIN"), false, false, []string{"OWN", "PLAIN"}, nil, StatusAuthFail},
		{"cram-md5 not offered", "cram-md5", []string{"PLAIN"}, accept, false, false, nil, nil, StatusAuthFail},
		{"external not offered", "external", []string{"PLAIN"}, accept, false, false, nil, nil, StatusAuthFail},
		{"gssapi unsupported", "gssapi", []string{"PLAIN"}, accept, false, false, nil, nil, StatusAuthFail},
		{"oauthbearer", "oauthbearer", []string{"OAUTHBEARER", "XOAUTH2"}, accept, false, false, []string{"OAUTHBEARER"}, nil, StatusNoMail},
		{"xoauth2 when only it is offered", "oauthbearer", []string{"XOAUTH2"}, accept, false, false, []string{"XOAUTH2"}, nil, StatusNoMail},
		{"xoauth2 microsoft: two-step", "oauthbearer", []string{"XOAUTH2"}, accept, true, true, []string{"XOAUTH2 +"}, nil, StatusNoMail},
		// IMAP: once imapclient has sent one AUTHENTICATE it puts the
		// initial response on the command line whenever the server has
		// SASL-IR, so the two-step retry cannot be sent on that session.
		{"xoauth2 one-step refused: two-step", "oauthbearer", []string{"XOAUTH2"}, refuseLabels("-", "XOAUTH2"), false, false, []string{"XOAUTH2", "XOAUTH2 +"}, []string{"XOAUTH2"}, StatusNoMail},
		{"stored token refused: refreshed once", "oauthbearer", []string{"OAUTHBEARER"},
			func(label, resp string) string {
				if strings.Contains(resp, "stale-token") {
					return "AUTH"
				}
				return ""
			}, false, true, []string{"OAUTHBEARER", "OAUTHBEARER"}, nil, StatusNoMail},
	}
	for _, proto := range []string{"pop3", "imap"} {
		for _, c := range cases {
			t.Run(proto+"/"+c.name, func(t *testing.T) {
				want, status := c.want, c.status
				if proto == "imap" && c.imap != nil {
					want = c.imap
					if c.name == "xoauth2 one-step refused: two-step" {
						status = StatusAuthFail
					}
				}
				srv, addr := serveLogin(t, proto, c.mechs, c.refuse)
				e := newIMAPEnv(t, nil, "")
				e.srv.Close()
				e.rejobAt(t, addr, proto, "")
				e.job.Server.Auth = c.auth
				if c.managed {
					p := "custom"
					if c.microsoft {
						p = "microsoft"
					}
					e.job.User.OAuthProvider = &p
					tokens := &fakeTokens{}
					e.opts.OAuth2 = func(Job) (OAuth2Tokens, error) { return tokens, nil }
				}
				res := e.poll(t)
				if res.Status != status {
					t.Errorf("status %d, want %d: %v", res.Status, status, res.Err)
				}
				if got := srv.attempts(); !slices.Equal(got, want) {
					t.Errorf("attempts %q, want %q\n%s", got, want, e.log)
				}
				for _, secret := range []string{"foobar", "stale-token", "fresh-token"} {
					if strings.Contains(e.log.String(), secret) {
						t.Errorf("%s is in the log:\n%s", secret, e.log)
					}
				}
			})
		}
	}
}

// TestCleartextRefusalNamesTheProtocolsCommand: the refusal to send a
// password in clear names the command the user's protocol has, STLS for
// POP3 and STARTTLS for IMAP.
func TestCleartextRefusalNamesTheProtocolsCommand(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	e := newTestEnv(t, nil, nil)
	e.rejob(t, pollRC("mail.example.org:110", "no sslcertck"))
	for _, c := range []struct {
		name      string
		s         *session
		want, not string
	}{
		{"pop3", &session{client: pop3.NewClient(farConn{a}, nil)}, "offers no STLS", "STARTTLS"},
		{"imap", &session{imap: &imap.Session{}}, "offers no STARTTLS", "STLS"},
	} {
		c.s.job, c.s.opts, c.s.route, c.s.conn = e.job, &e.opts, &route{kind: "tcp", host: "mail.example.org", port: 110}, farConn{a}
		err := c.s.clearOK()
		if !errors.Is(err, ErrCleartext) {
			t.Fatalf("%s: %v", c.name, err)
		}
		if msg := err.Error(); !strings.Contains(msg, c.want) || strings.Contains(msg, c.not) {
			t.Errorf("%s: %q: want %q, not %q", c.name, msg, c.want, c.not)
		}
	}
}

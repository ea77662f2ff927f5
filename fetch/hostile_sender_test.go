package fetch

import (
	"bufio"
	"net"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
	"github.com/gofetchmail/gofetchmail/rcparse"
)

// rawMTA is an SMTP server on loopback that accepts everything and records
// each command line byte for byte, so that a test sees what went on the
// wire (a parsing server would hide an injected parameter).
type rawMTA struct {
	mu    sync.Mutex
	lines []string
}

func (m *rawMTA) start(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go m.serve(c)
		}
	}()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return "127.0.0.1/" + port
}

func (m *rawMTA) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	c.Write([]byte("220 raw.test ESMTP\r\n"))
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		m.mu.Lock()
		m.lines = append(m.lines, line)
		m.mu.Unlock()
		switch verb := strings.ToUpper(strings.TrimSpace(line)); {
		case strings.HasPrefix(verb, "EHLO"):
			c.Write([]byte("250-raw.test\r\n250 8BITMIME\r\n"))
		case verb == "DATA":
			c.Write([]byte("354 go on\r\n"))
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
			}
			c.Write([]byte("250 ok\r\n"))
		case verb == "QUIT":
			c.Write([]byte("221 bye\r\n"))
			return
		default:
			c.Write([]byte("250 ok\r\n"))
		}
	}
}

// commands returns the recorded lines that start with verb.
func (m *rawMTA) commands(verb string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, l := range m.lines {
		if strings.HasPrefix(strings.ToUpper(l), verb) {
			out = append(out, l)
		}
	}
	return out
}

// multidropCatchall is the entry: localdomains mx.example.org,
// user catchall there is * here, postmaster pm, forwarding to m.
func multidropCatchall(t *testing.T, msgs []pop3test.Message, m *rawMTA) *testEnv {
	e := newTestEnv(t, msgs, nil)
	e.job.User.Maildir = nil
	e.job.User.Smtphunt = []string{m.start(t)}
	e.job.User.Localnames = []rcparse.LocalName{{Wildcard: true}}
	e.job.Server.Envelope = nil
	e.job.Server.DNS = false
	e.job.Server.Localdomains = []string{"mx.example.org"}
	e.job.Config.Postmaster = "pm"
	return e
}

// TestHostileMultidropNoRelay: a multidrop entry with the wildcard never
// hands the MTA a recipient a sender wrote as a route to somewhere else:
// a quoted local part holding an address, the %-hack, a UUCP !-path, a
// source route, an encoded word, a comment; they go to the postmaster
// instead, and an ordinary local part still gets its copy.
func TestHostileMultidropNoRelay(t *testing.T) {
	for _, tc := range []struct{ name, to, want string }{
		{"quoted address", `"victim@attacker.example"@mx.example.org`, "pm"},
		{"quoted address with a display name", `V <"victim@attacker.example"@mx.example.org>`, "pm"},
		{"bare second @", `victim@attacker.example@mx.example.org`, "pm"},
		{"percent hack", `victim%attacker.example@mx.example.org`, "pm"},
		{"quoted percent hack", `"victim%attacker.example"@mx.example.org`, "pm"},
		{"bang path", `attacker.example!victim@mx.example.org`, "pm"},
		{"source route", `<@mx.example.org,@attacker.example:victim@mx.example.org>`, "pm-quiet"},
		{"encoded word", `=?utf-8?q?victim=40attacker.example?=@mx.example.org`, "pm"},
		{"leading dash", `-oQ/tmp@mx.example.org`, "pm"},
		{"quoted angle brackets", `"a>victim@attacker.example<"@mx.example.org`, "pm"},
		{"ordinary local part", `joe.smith+tag@mx.example.org`, "joe.smith+tag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &rawMTA{}
			msg := pop3test.Message{UID: "h1", Data: []byte("From: a@example.org\nTo: " + tc.to + "\nSubject: relay?\n\nhi\n")}
			e := multidropCatchall(t, []pop3test.Message{msg}, m)
			if res := e.poll(t); res.Delivered != 1 {
				t.Fatalf("result %+v\n%s", res, e.log)
			}
			rcpts := m.commands("RCPT TO")
			want, quiet := strings.CutSuffix(tc.want, "-quiet") // no local part reached the wildcard
			if len(rcpts) != 1 || rcpts[0] != "RCPT TO:<"+want+"@127.0.0.1>\r\n" {
				t.Errorf("RCPT TO lines %q, want only <%s@127.0.0.1>", rcpts, want)
			}
			for _, r := range rcpts {
				if strings.Contains(r, "attacker") {
					t.Errorf("relayed outside: %q", r)
				}
			}
			if want == "pm" && !quiet && !strings.Contains(e.log.String(), "multidrop: not delivering to the local part") {
				t.Errorf("no warning logged:\n%s", e.log)
			}
		})
	}
}

// TestHostileEnvelopeSender: whatever a sender writes in Return-Path or
// From, MAIL FROM is one well-formed RFC 5321 reverse-path: no bare CR,
// LF or NUL, no early '>' that would add an ESMTP parameter; a local part
// that is not a dot-atom is quoted; an address that cannot be made one is
// passed over for the next source (From), else the null sender. The
// message is delivered either way, never stuck on the server.
func TestHostileEnvelopeSender(t *testing.T) {
	for _, tc := range []struct{ name, header, want string }{
		{"parameter injection through a quoted From", "From: \"a> NOTIFY=NEVER ORCPT=x\"@evil.example\n", `<"a> NOTIFY=NEVER ORCPT=x"@evil.example>`},
		{"command substitution in Return-Path", "Return-Path: <$(touch${IFS}/tmp/PWNED)@evil.example>\nFrom: f@evil.example\n", `<"$(touch${IFS}/tmp/PWNED)"@evil.example>`},
		{"bare CR in Return-Path", "Return-Path: <a\rRCPT TO:x@evil.example>\nFrom: f@evil.example\n", `<f@evil.example>`},
		{"bare CR in Return-Path without brackets", "Return-Path: a\rb@evil.example\nFrom: f@evil.example\n", `<f@evil.example>`},
		{"NUL in Return-Path", "Return-Path: <a\x00b@evil.example>\nFrom: f@evil.example\n", `<f@evil.example>`},
		{"NUL in the only address", "From: \"a\x00b\"@evil.example\n", `<>`},
		{"bad domain", "Return-Path: <a@evil.example>x>\nFrom: <a@[1.2.3.4]>\n", `<a@[1.2.3.4]>`},
		{"ordinary", "Return-Path: <bounce+x=y@lists.example.org>\nFrom: f@evil.example\n", `<bounce+x=y@lists.example.org>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &rawMTA{}
			msg := pop3test.Message{UID: "s1", Data: []byte(tc.header + "To: joe@example.org\nSubject: s\n\nhi\n")}
			e := newTestEnv(t, []pop3test.Message{msg}, nil)
			e.job.User.Maildir = nil
			e.job.User.Smtphunt = []string{m.start(t)}
			if res := e.poll(t); res.Delivered != 1 || res.Deleted != 1 {
				t.Fatalf("result %+v", res)
			}
			froms := m.commands("MAIL FROM")
			if len(froms) != 1 || froms[0] != "MAIL FROM:"+tc.want+" BODY=8BITMIME\r\n" {
				t.Errorf("MAIL FROM lines %q, want %s", froms, tc.want)
			}
			if rc := m.commands("RCPT TO"); len(rc) != 1 {
				t.Errorf("RCPT TO lines %q", rc)
			}
		})
	}
}

// TestHostileMDASender is the case end to end: a Return-Path of
// <$(touch${IFS}FILE)@evil.example> and an MDA that runs its own shell on
// %F (mda "/bin/sh -c '... %F ...'"); the file must not appear, and the
// MDA gets the sender with its shell syntax turned into '_'.
func TestHostileMDASender(t *testing.T) {
	dir := t.TempDir()
	pwned, out := dir+"/PWNED", dir+"/out"
	for _, rp := range []string{
		"<$(touch${IFS}" + pwned + ")@evil.example>",
		"<`touch${IFS}" + pwned + "`@evil.example>",
		"<a;touch${IFS}" + pwned + ";@evil.example>",
		"<\"';touch " + pwned + ";'\"@evil.example>",
	} {
		msg := pop3test.Message{UID: "m1", Data: []byte("Return-Path: " + rp + "\nFrom: f@evil.example\nTo: joe@example.org\n\nhi\n")}
		e := newTestEnv(t, []pop3test.Message{msg}, nil)
		e.job.User.Maildir = nil
		mda := "/bin/sh -c 'cat >/dev/null; echo %F >" + out + "'"
		e.job.User.MDA = &mda
		if res := e.poll(t); res.Delivered != 1 {
			t.Fatalf("Return-Path %s: result %+v\n%s", rp, res, e.log)
		}
		if _, err := os.Stat(pwned); err == nil {
			t.Fatalf("Return-Path %s ran the sender's command", rp)
		}
		got, _ := os.ReadFile(out)
		if s := strings.TrimSuffix(string(got), "\n"); s == "" || strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@._+=-") != "" {
			t.Errorf("Return-Path %s: the MDA saw %q", rp, got)
		}
	}
}

//go:build interop

package interop

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/internal/sasl"
	"github.com/gofetchmail/gofetchmail/pop3"
)

// TestAuthMethodsDovecot logs in to the real dovecot with APOP, CRAM-MD5
// (what auth any picks from dovecot's CAPA) and auth password, each over
// the plain port with sslproto ” (loopback), and a wrong CRAM-MD5
// password ends in exit 3.
func TestAuthMethodsDovecot(t *testing.T) {
	for _, tc := range []struct {
		name, proto, auth, pass, trace string
		want                           int
	}{
		{"apop", "apop", "", "foobar", "POP3> APOP msingh *****", 0},
		{"any picks cram-md5", "pop3", "", "foobar", "POP3> AUTH CRAM-MD5", 0},
		{"cram-md5", "pop3", "auth cram-md5", "foobar", "POP3> AUTH CRAM-MD5", 0},
		{"password", "pop3", "auth password", "foobar", "POP3> PASS *****", 0},
		{"cram-md5 wrong", "pop3", "auth cram-md5", "wrong", "POP3> AUTH CRAM-MD5", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHome(t, rig["RIG_CLIENT_KEY"], true)
			fill(t, 2)
			rc := strings.Replace(directRC(tc.pass, ""), "protocol pop3", "protocol "+tc.proto+" "+tc.auth, 1)
			r := h.runArgs(t, "-f", h.rc(t, ownPid(h, rc)), "--maildir", h.maildir(), "-v")
			expectExit(t, r, tc.want)
			if !strings.Contains(r.stdout+r.stderr, tc.trace) {
				t.Errorf("trace lacks %q:\n%s", tc.trace, r)
			}
			if strings.Contains(r.stdout+r.stderr, "foobar") {
				t.Errorf("the password is in the output:\n%s", r)
			}
			if tc.want == 0 {
				verify(t, h.maildir(), 2)
				serverHolds(t, 0)
			} else {
				serverHolds(t, 2)
			}
		})
	}
}

// TestSASLPlainLoginDovecot runs package internal/sasl's PLAIN, LOGIN and
// CRAM-MD5 through the pop3 package against dovecot.
func TestSASLPlainLoginDovecot(t *testing.T) {
	fill(t, 1)
	for name, mech := range map[string]sasl.Client{
		"PLAIN":          sasl.Plain("msingh", "foobar"),
		"LOGIN":          sasl.Login("msingh", "foobar"),
		"CRAM-MD5":       sasl.CramMD5("msingh", "foobar"),
		"PLAIN wrong pw": sasl.Plain("msingh", "nope"),
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			conn, err := net.Dial("tcp", net.JoinHostPort(rig["RIG_HOST"], rig["RIG_POP3_PORT"]))
			if err != nil {
				t.Fatal(err)
			}
			c := pop3.NewClient(conn, nil)
			defer c.Close()
			if _, err := c.Greeting(ctx); err != nil {
				t.Fatal(err)
			}
			err = c.Auth(ctx, mech)
			if strings.Contains(name, "wrong") {
				if !pop3.IsAuthError(err) {
					t.Fatalf("wrong password: %v, want an authentication error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n, _, err := c.Stat(ctx); err != nil || n != 1 {
				t.Errorf("STAT %d, %v", n, err)
			}
			c.Quit(ctx)
		})
	}
}

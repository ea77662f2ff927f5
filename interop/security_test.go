//go:build interop

package interop

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPasswordNeverShown runs gofetchmail with -v against the rig in the
// ways a password travels (USER/PASS, CRAM-MD5, APOP-less default, over
// the SSH channel, a wrong password refused by dovecot, a connection that
// fails) and greps everything it wrote, standard output and error, the
// log file and every file it left in its home, for the password.
func TestPasswordNeverShown(t *testing.T) {
	const wrong = "Wr0ng-pa55word-zq"
	pass := rig["RIG_PASSWORD"]
	cases := []struct {
		name, rc, secret string
		exit             int
	}{
		{"user-pass", withAuth(popRC(rig["RIG_POP3_PORT"], ""), "password"), pass, 0},
		{"cram-md5", withAuth(popRC(rig["RIG_POP3_PORT"], ""), "cram-md5"), pass, 0},
		{"any", popRC(rig["RIG_POP3_PORT"], ""), pass, 0},
		{"ssh", seed(pass), pass, 0},
		{"wrong-user-pass", strings.Replace(withAuth(popRC(rig["RIG_POP3_PORT"], ""), "password"), "password foobar", "password "+wrong, 1), wrong, 3},
		{"wrong-any", strings.Replace(popRC(rig["RIG_POP3_PORT"], ""), "password foobar", "password "+wrong, 1), wrong, 3},
		{"refused", strings.Replace(withAuth(popRC("1", ""), "password"), "password foobar", "password "+wrong, 1), wrong, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(c.rc, "password "+c.secret) || (c.name != "ssh" && !strings.Contains(c.rc, " timeout 10")) {
				t.Fatalf("the rc does not hold the password:\n%s", c.rc)
			}
			h := newHome(t, rig["RIG_CLIENT_KEY"], true)
			fill(t, 2)
			// dovecot delays logins after failed ones (auth_penalty, up
			// to 15 s): a timeout beyond that.
			rc := h.rc(t, strings.Replace(c.rc, " timeout 10", " timeout 30", 1))
			logfile := filepath.Join(h.dir, "gofetchmail.log")
			r := h.runArgs(t, "-v", "-v", "-f", rc, "--maildir", h.maildir(), "-L", logfile)
			expectExit(t, r, c.exit)
			if strings.Contains(r.stdout, c.secret) || strings.Contains(r.stderr, c.secret) {
				t.Errorf("the password appears in the output:\n%v", r)
			}
			trace := r.stdout + r.stderr + readLog(logfile)
			if c.exit != 2 && !strings.Contains(trace, "POP3> ") {
				t.Errorf("no -v protocol trace to check:\n%v\nlog file:\n%s", r, readLog(logfile))
			}
			if strings.HasSuffix(c.name, "user-pass") && !strings.Contains(trace, "POP3> PASS") {
				t.Errorf("the trace does not show the (masked) PASS command:\n%s", trace)
			}
			// Every file left in the home but the rc itself.
			filepath.WalkDir(h.dir, func(path string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() || path == rc {
					return nil
				}
				data, err := os.ReadFile(path)
				if err == nil && strings.Contains(string(data), c.secret) {
					t.Errorf("the password appears in %s", path)
				}
				return nil
			})
			serverHolds(t, map[bool]int{true: 0, false: 2}[c.exit == 0])
		})
	}
}

// withAuth adds "auth METHOD" to the server options of a popRC rc.
func withAuth(rc, method string) string {
	return strings.Replace(rc, " timeout 10", " timeout 10 auth "+method, 1)
}

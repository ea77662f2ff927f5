//go:build interop

package interop

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// "gofetchmail doctor" against the rig: every ✘ line comes from a real
// failing setup (a wrong password on dovecot, an unknown host key on the
// rig's sshd, the rig's self-signed certificate, an unwritable maildir, a
// closed SMTP port), and a healthy setup is ✔ throughout. Every run must
// leave the server's mailbox as it was and never print the password.

// doctor runs "gofetchmail doctor -f RC" in h.
func (h home) doctor(t *testing.T, rc string) result {
	t.Helper()
	return h.exec(t, "doctor", "-f", h.rc(t, rc))
}

// doctorLine fails the test unless the output has a line starting with
// prefix that holds every one of subs.
func doctorLine(t *testing.T, r result, prefix string, subs ...string) {
	t.Helper()
	for _, l := range strings.Split(r.stdout, "\n") {
		if !strings.HasPrefix(l, prefix) {
			continue
		}
		all := true
		for _, s := range subs {
			all = all && strings.Contains(l, s)
		}
		if all {
			return
		}
	}
	t.Errorf("no line %q with %q:\n%s", prefix, subs, r)
}

// doctorRC is one POP3 entry on the rig; extra goes in the user part.
func doctorRC(h home, port, password, extra string) string {
	return ownPid(h, fmt.Sprintf("set idfile %q\npoll 127.0.0.1 with protocol pop3 and port %s\n  user msingh there is manish here password %q %s\n",
		filepath.Join(h.dir, ".fetchids"), port, password, extra))
}

func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	return port
}

// TestDoctorHealthy: POP3 through the translated ssh -L preconnect into a
// maildir, and IMAPS pinned by sslfingerprint delivering to the rig's
// postfix: every step ✔, exit 0, the mailbox untouched and counted.
func TestDoctorHealthy(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	fill(t, 3)
	if err := os.MkdirAll(filepath.Join(h.maildir(), "tmp"), 0o700); err != nil {
		t.Fatal(err)
	}
	_, sha256fp := certFingerprints(t)
	rc := ownPid(h, fmt.Sprintf(`set idfile %q
poll localhost with protocol pop3 and port 11110:
  user msingh there is manish here password foobar maildir %q
  preconnect "ssh -C -f msingh@popserver -L 11110:127.0.0.1:%s sleep 5"
poll 127.0.0.1 with protocol imap and port %s
  user msingh there is manish here password foobar ssl sslfingerprint "SHA256:%s" smtphost 127.0.0.1/%s
`, filepath.Join(h.dir, ".fetchids"), h.maildir(), rig["RIG_POP3_PORT"], rig["RIG_IMAPS_PORT"], sha256fp, rig["RIG_MTA_PORT"]))
	r := h.doctor(t, rc)
	expectExit(t, r, 0)
	if strings.Contains(r.stdout, "✘") {
		t.Errorf("a ✘ line in a healthy run:\n%s", r)
	}
	doctorLine(t, r, "✔ rc file", "line 5: ", "ssh -L preconnect runs as an in-process SSH channel")
	doctorLine(t, r, "✔ ssh", "host key known", "logged in to 127.0.0.1:"+rig["RIG_SSH_PORT"], "with ssh-ed25519 key SHA256:", "("+rig["RIG_CLIENT_KEY"]+")")
	doctorLine(t, r, "✔ channel", "127.0.0.1:"+rig["RIG_POP3_PORT"])
	doctorLine(t, r, "✔ tls", "inside SSH")
	doctorLine(t, r, "✔ login", "CRAM-MD5")
	doctorLine(t, r, "✔ mailbox", "3 messages", "3 new")
	doctorLine(t, r, "✔ delivery", "maildir "+h.maildir()+" is writable")
	doctorLine(t, r, "✔ tls", "implicit TLS", "matches sslfingerprint")
	doctorLine(t, r, "✔ mailbox", "folder INBOX: 3 messages")
	doctorLine(t, r, "✔ delivery", "SMTP host 127.0.0.1/"+rig["RIG_MTA_PORT"]+" answers")
	if strings.Contains(r.stdout+r.stderr, "foobar") {
		t.Errorf("the password is in the output:\n%s", r)
	}
	serverHolds(t, 3)
	if ents, _ := os.ReadDir(filepath.Join(h.maildir(), "tmp")); len(ents) != 0 {
		t.Errorf("the maildir's tmp/ holds %d files", len(ents))
	}
}

// TestDoctorFailures: each real failing setup gives its ✘ line with the
// next thing to try and fetchmail's exit status, and stops the account.
func TestDoctorFailures(t *testing.T) {
	_, sha256fp := certFingerprints(t)
	for _, tc := range []struct {
		name    string
		trust   bool // the rig's host key in known_hosts
		rc      func(h home) string
		setup   func(t *testing.T, h home)
		code    int
		prefix  string
		subs    []string
		noLater string // a step that must not run after the failure
	}{{
		name: "wrong password", trust: true,
		rc: func(h home) string {
			return doctorRC(h, rig["RIG_POP3_PORT"], "Wr0ng-pw-42", "sslproto '' maildir "+h.maildir())
		},
		code: 3, prefix: "✘ login", subs: []string{"next: check the user name and the password"}, noLater: "mailbox",
	}, {
		name: "unknown host key", trust: false,
		rc: func(h home) string {
			return ownPid(h, fmt.Sprintf("poll localhost with protocol pop3 and port 11110:\n  user msingh there is manish here password foobar maildir %q\n  preconnect \"ssh -f msingh@popserver -L 11110:127.0.0.1:%s sleep 5\"\n",
				h.maildir(), rig["RIG_POP3_PORT"]))
		},
		code: 2, prefix: "✘ ssh", subs: []string{"host key of [127.0.0.1]:" + rig["RIG_SSH_PORT"] + " is unknown", "next: check the key's fingerprint"}, noLater: "channel",
	}, {
		name: "self-signed certificate", trust: true,
		rc: func(h home) string {
			return doctorRC(h, rig["RIG_POP3S_PORT"], "foobar", "ssl sslcertck maildir "+h.maildir())
		},
		code: 2, prefix: "✘ tls", subs: []string{"it is self-signed", `sslfingerprint "SHA256:` + sha256fp + `"`, "next: compare the fingerprint"}, noLater: "login",
	}, {
		name: "unwritable maildir", trust: true,
		rc: func(h home) string {
			return doctorRC(h, rig["RIG_POP3_PORT"], "foobar", "sslproto '' maildir "+h.maildir())
		},
		setup: unwritableMaildir,
		code:  10, prefix: "✘ delivery", subs: []string{"cannot write in tmp/: operation not permitted", "next: make it writable"},
	}, {
		name: "closed SMTP port", trust: true,
		rc: func(h home) string {
			return doctorRC(h, rig["RIG_POP3_PORT"], "foobar", "sslproto '' smtphost 127.0.0.1/"+closedPort(t))
		},
		code: 10, prefix: "✘ delivery", subs: []string{"connection refused", "next: is the mail server running"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHome(t, rig["RIG_CLIENT_KEY"], tc.trust)
			fill(t, 2)
			if tc.setup != nil {
				tc.setup(t, h)
			}
			r := h.doctor(t, tc.rc(h))
			expectExit(t, r, tc.code)
			doctorLine(t, r, tc.prefix, tc.subs...)
			if n := strings.Count(r.stdout, "✘"); n != 1 {
				t.Errorf("%d ✘ lines, want 1:\n%s", n, r)
			}
			if tc.noLater != "" && (strings.Contains(r.stdout, "✔ "+tc.noLater+" ") || strings.Contains(r.stdout, "✘ "+tc.noLater+" ")) {
				t.Errorf("the %s step ran after the failure:\n%s", tc.noLater, r)
			}
			for _, pw := range []string{"foobar", "Wr0ng-pw-42"} {
				if strings.Contains(r.stdout+r.stderr, pw) {
					t.Errorf("a password is in the output:\n%s", r)
				}
			}
			serverHolds(t, 2)
		})
	}
}

// unwritableMaildir makes h's maildir one nobody can write in: its tmp/
// immutable (chattr +i stops root too), or read-only for a user.
func unwritableMaildir(t *testing.T, h home) {
	t.Helper()
	tmp := filepath.Join(h.maildir(), "tmp")
	for _, d := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(h.maildir(), d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if os.Geteuid() != 0 {
		os.Chmod(tmp, 0o500)
		t.Cleanup(func() { os.Chmod(tmp, 0o700) })
		return
	}
	if out, err := exec.Command("chattr", "+i", tmp).CombinedOutput(); err != nil {
		t.Skipf("chattr +i %s: %v %s (root needs an immutable directory to be refused)", tmp, err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", tmp).Run() })
}

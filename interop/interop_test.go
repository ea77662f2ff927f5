//go:build interop

package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seedRC is the .fetchmailrc of the "secure POP via ssh" HOWTO, with the
// forward aimed at the rig's dovecot instead of port 110.
const seedRC = `defaults
user msingh is manish
no rewrite
poll localhost with protocol pop3 and port 11110:
preconnect "ssh -C -f msingh@popserver -L 11110:127.0.0.1:%s sleep 5"
password %s;
`

func seed(password string) string {
	return fmt.Sprintf(seedRC, rig["RIG_POP3_PORT"], password)
}

// directRC polls the rig's dovecot on its plain port, no ssh, no TLS.
func directRC(password, extra string) string {
	return fmt.Sprintf(`defaults
user msingh is manish
no rewrite
poll 127.0.0.1 with protocol pop3 and port %s
  user msingh there is manish here password %s sslproto '' %s
`, rig["RIG_POP3_PORT"], password, extra)
}

// TestSeedOverSSH runs the HOWTO's rc file unchanged (but for the port):
// gofetchmail must reach dovecot through its own SSH transport, neither
// running ssh (a fake one is first on PATH) nor talking to whatever listens
// on local port 11110 (a squatter answering -ERR).
func TestSeedOverSSH(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	rc := h.rc(t, seed("foobar"))
	hits := squat(t, "127.0.0.1:11110")
	fill(t, 40)

	r := h.run(t, rc)
	expectExit(t, r, 0)
	if strings.Contains(r.stderr, "ssh must not be run") {
		t.Error("gofetchmail ran the ssh program")
	}
	if hits != nil && hits.Load() > 0 {
		t.Errorf("gofetchmail connected %d times to local port 11110 instead of through SSH", hits.Load())
	}
	verify(t, h.maildir(), 40)
	serverHolds(t, 0)

	r = h.run(t, rc)
	expectExit(t, r, 1) // no mail
}

// TestWrongPOP3PasswordExit3 expects exit 3 for a password dovecot refuses,
// both directly and through the SSH forward, and the mail left alone.
func TestWrongPOP3PasswordExit3(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	fill(t, 3)
	for _, tc := range []struct{ name, rc string }{
		{"direct", directRC("wrong", "")},
		{"ssh", seed("wrong")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expectExit(t, h.run(t, h.rc(t, tc.rc)), 3)
			serverHolds(t, 3)
		})
	}
}

// TestUnknownHostKeyExit2 expects a host key missing from known_hosts to
// be refused (exit 2) with a message naming the host and known_hosts.
func TestUnknownHostKeyExit2(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], false)
	fill(t, 3)
	r := h.run(t, h.rc(t, seed("foobar")))
	expectExit(t, r, 2)
	if !strings.Contains(r.stderr, "known_hosts") {
		t.Errorf("stderr does not mention known_hosts:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "popserver") && !strings.Contains(r.stderr, "127.0.0.1") {
		t.Errorf("stderr names neither popserver nor 127.0.0.1:\n%s", r.stderr)
	}
	serverHolds(t, 3)
}

// TestWrongSSHKeyExit3 expects a key the sshd does not authorise to end in
// an authentication failure (exit 3).
func TestWrongSSHKeyExit3(t *testing.T) {
	h := newHome(t, strangerKey(t), true)
	fill(t, 3)
	expectExit(t, h.run(t, h.rc(t, seed("foobar"))), 3)
	serverHolds(t, 3)
}

// TestPlainPOP3Direct fetches every kind of test message from dovecot's
// plain port and expects each delivered intact and removed from the server.
func TestPlainPOP3Direct(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	fill(t, 20)
	expectExit(t, h.run(t, h.rc(t, directRC("foobar", ""))), 0)
	verify(t, h.maildir(), 20)
	serverHolds(t, 0)
}

// TestKeepLeavesMail expects "keep" to deliver the mail and leave it on
// the server.
func TestKeepLeavesMail(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	fill(t, 5)
	expectExit(t, h.run(t, h.rc(t, directRC("foobar", "keep"))), 0)
	verify(t, h.maildir(), 5)
	serverHolds(t, 5)
}

// TestChangedHostKeyExit2 expects a known_hosts entry with another key for
// the real sshd to be refused as a changed key (exit 2), mail untouched.
func TestChangedHostKeyExit2(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], false)
	other, err := os.ReadFile(rig["RIG_CLIENT_KEY"] + ".pub") // any other ed25519 key
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(other))
	writeFile(t, filepath.Join(h.dir, ".ssh", "known_hosts"),
		fmt.Sprintf("[127.0.0.1]:%s %s %s\n", rig["RIG_SSH_PORT"], fields[0], fields[1]), 0o600)
	fill(t, 3)
	r := h.run(t, h.rc(t, seed("foobar")))
	expectExit(t, r, 2)
	if !strings.Contains(strings.ToLower(r.stderr), "changed") {
		t.Errorf("stderr does not say the host key changed:\n%s", r.stderr)
	}
	serverHolds(t, 3)
}

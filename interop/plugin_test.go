//go:build interop

package interop

import (
	"fmt"
	"strings"
	"testing"
)

// pluginRC polls the rig's dovecot through a plugin command.
func pluginRC(plugin, auth string) string {
	return fmt.Sprintf(`defaults
user msingh is manish
no rewrite
poll 127.0.0.1 with protocol pop3 and port %s %s
  plugin "%s"
  user msingh there is manish here password foobar
`, rig["RIG_POP3_PORT"], auth, plugin)
}

// TestPluginSSHStdioForward runs plugin "ssh -W %h:%p popserver" through
// the real sshd: gofetchmail must open a direct-tcpip channel itself (the
// ssh on PATH must not run), and no STLS is demanded inside SSH.
func TestPluginSSHStdioForward(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	fill(t, 5)
	r := h.runArgs(t, "-f", h.rc(t, ownPid(h, pluginRC("ssh -W %h:%p popserver", ""))), "--maildir", h.maildir(), "-v")
	expectExit(t, r, 0)
	if strings.Contains(r.stderr, "ssh must not be run") {
		t.Error("gofetchmail ran the ssh program")
	}
	if !strings.Contains(r.stdout+r.stderr, "plugin ssh translated") {
		t.Errorf("the route is not the translated plugin:\n%s", r)
	}
	verify(t, h.maildir(), 5)
	serverHolds(t, 0)
}

// TestPluginSSHExecPreauth runs plugin "ssh popserver /usr/lib/dovecot/pop3
// ..." with auth ssh: an SSH exec channel on the real sshd runs dovecot's
// pop3 binary as msingh, already logged in, and gofetchmail sends no
// credentials.
func TestPluginSSHExecPreauth(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	fill(t, 5)
	// dovecot's pop3 run by hand is pre-authenticated as the calling user
	// but sends no greeting, so the remote shell echoes one first; HOME
	// tells it where ~/Maildir is, -c names the rig's config.
	cmd := fmt.Sprintf("ssh popserver echo +OK preauth; exec env HOME=%s/mail/msingh /usr/lib/dovecot/pop3 -c %s/dovecot/dovecot.conf -o stats_writer_socket_path=",
		rig["RIG_DIR"], rig["RIG_DIR"])
	r := h.runArgs(t, "-f", h.rc(t, ownPid(h, pluginRC(cmd, "auth ssh"))), "--maildir", h.maildir(), "-v")
	expectExit(t, r, 0)
	out := r.stdout + r.stderr
	if strings.Contains(out, "ssh must not be run") {
		t.Error("gofetchmail ran the ssh program")
	}
	if !strings.Contains(out, "SSH exec channel") {
		t.Errorf("the route is not an exec channel:\n%s", r)
	}
	if strings.Contains(out, "POP3> USER") || strings.Contains(out, "POP3> PASS") || strings.Contains(out, "POP3> AUTH") {
		t.Errorf("credentials were sent to a pre-authenticated session:\n%s", r)
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("%s", r)
	}
	verify(t, h.maildir(), 5)
	serverHolds(t, 0)
}

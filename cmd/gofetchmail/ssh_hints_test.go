package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"github.com/gofetchmail/gofetchmail/transport/sshtest"
)

// Issue 15.5: SSH authentication that cannot even offer a key says why and
// what to do, at default verbosity, not only "authentication failed
// (methods tried: none)": a dead agent socket, a key with a passphrase and
// no terminal, nothing to offer at all. The runs have no terminal (cron,
// a daemon, systemd).
func TestSSHAuthFailureSaysWhy(t *testing.T) {
	locked, lockedPEM, err := sshtest.GenerateKeyWithPassphrase("the passphrase")
	if err != nil {
		t.Fatal(err)
	}
	keyOnly := sshtest.ServerOptions{AuthorizedKeys: map[string][]gossh.PublicKey{"joe": {locked.PublicKey()}}}
	cases := []struct {
		name  string
		agent string // SSH_AUTH_SOCK
		key   bool   // a passphrase-protected ~/.ssh/id_ed25519
		want  []string
	}{
		{"dead agent", "/nonexistent/agent.sock", false,
			[]string{"ssh-agent at SSH_AUTH_SOCK=/nonexistent/agent.sock cannot be reached", "no such file or directory", "ssh-add"}},
		{"passphrase without terminal", "", true,
			[]string{"has a passphrase and there is no terminal to ask for it", "ssh-add " + "HOME/.ssh/id_ed25519"}},
		{"nothing to offer", "", false,
			[]string{"no key to offer", "no terminal to ask for a password", "ssh-keygen"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, _ := sshWorld(t, keyOnly, "")
			for i, e := range w.env {
				if strings.HasPrefix(e, "SSH_AUTH_SOCK=") {
					w.env[i] = "SSH_AUTH_SOCK=" + c.agent
				}
			}
			if c.key {
				key := filepath.Join(w.home, ".ssh", "id_ed25519")
				os.WriteFile(key, lockedPEM, 0o600)
				os.WriteFile(key+".pub", gossh.MarshalAuthorizedKey(locked.PublicKey()), 0o644)
			}
			code, out := w.run(t) // stdin is not a terminal
			if code != 3 {
				t.Errorf("exit %d, want 3 (authentication failed)", code)
			}
			for _, want := range c.want {
				want = strings.ReplaceAll(want, "HOME", w.home)
				if !strings.Contains(out, want) {
					t.Errorf("the output does not say %q", want)
				}
			}
		})
	}
}

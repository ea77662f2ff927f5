package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

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
			[]string{"no key to offer (no ssh-agent", "no terminal to ask for a password", "ssh-keygen"}},
		{"empty agent", "EMPTY-AGENT", false,
			[]string{"no key to offer (the ssh-agent holds no key", "ssh-add"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, _ := sshWorld(t, keyOnly, "")
			sock := c.agent
			if sock == "EMPTY-AGENT" {
				sock = emptyAgent(t)
			}
			for i, e := range w.env {
				if strings.HasPrefix(e, "SSH_AUTH_SOCK=") {
					w.env[i] = "SSH_AUTH_SOCK=" + sock
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

// emptyAgent serves an ssh-agent without keys on a socket in a temporary
// directory.
func emptyAgent(t *testing.T) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	keyring := agent.NewKeyring()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { agent.ServeAgent(keyring, c); c.Close() }()
		}
	}()
	return sock
}

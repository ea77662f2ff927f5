package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/gofetchmail/gofetchmail/transport/sshtest"
)

// sshWorld is a fresh HOME whose ~/.ssh/config names the in-process SSH
// server "gw", and an rc file that reaches popserver through it.
func sshWorld(t *testing.T, opts sshtest.ServerOptions, sshConfig string) (*userWorld, *sshtest.Server) {
	t.Helper()
	w := newUserWorld(t)
	opts.Forward = func(string, int) (net.Conn, error) { return nil, errors.New("no mail server in this test") }
	srv, err := sshtest.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	_, port, _ := net.SplitHostPort(srv.Addr)
	sshDir := filepath.Join(w.home, ".ssh")
	if err := os.MkdirAll(sshDir, 0o700); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"config":      fmt.Sprintf("Host gw\n  HostName 127.0.0.1\n  Port %s\n  User joe\n%s", port, sshConfig),
		"known_hosts": srv.KnownHostsLine() + "\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(sshDir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	w.writeRC(t, filepath.Join(w.home, ".fetchmailrc"), `set pidfile "~/run.pid"
poll popserver proto pop3 sshtunnel "gw" user joe password secret
`)
	return w, srv
}

// waitExit waits for cmd, killing it when it does not end (the bug: only
// SIGKILL ended it).
func waitExit(t *testing.T, cmd *exec.Cmd, what string) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s: gofetchmail did not end; it had to be killed", what)
	}
	return -1
}

// Issue 15.3: ^C, SIGINT and SIGTERM at the in-process SSH client's
// password, passphrase and keyboard-interactive prompts abort the run as
// in ssh: the terminal echoes again and the status is 128 + the signal.
func TestInterruptAtSSHPrompts(t *testing.T) {
	locked, lockedPEM, err := sshtest.GenerateKeyWithPassphrase("the passphrase")
	if err != nil {
		t.Fatal(err)
	}
	password := sshtest.ServerOptions{Users: map[string]string{"joe": "sshpw"}}
	cases := []struct {
		name      string
		opts      sshtest.ServerOptions
		sshConfig string
		key       bool
		prompt    string
		interrupt string // "^C" typed, or a signal sent
		want      int
	}{
		{"password ^C", password, "", false, "joe@127.0.0.1's password: ", "^C", 130},
		{"password SIGINT", password, "", false, "joe@127.0.0.1's password: ", "INT", 130},
		{"password SIGTERM", password, "", false, "joe@127.0.0.1's password: ", "TERM", 143},
		{"keyboard-interactive ^C", password, "  PasswordAuthentication no\n", false, "(joe@127.0.0.1) Password: ", "^C", 130},
		{"passphrase ^C", sshtest.ServerOptions{AuthorizedKeys: map[string][]gossh.PublicKey{"joe": {locked.PublicKey()}}},
			"", true, "Enter passphrase for key", "^C", 130},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, _ := sshWorld(t, c.opts, c.sshConfig)
			if c.key {
				key := filepath.Join(w.home, ".ssh", "id_ed25519")
				os.WriteFile(key, lockedPEM, 0o600)
				os.WriteFile(key+".pub", gossh.MarshalAuthorizedKey(locked.PublicKey()), 0o644)
			}
			master, slave := openPty(t)
			cmd := w.command(t)
			startOnPty(t, cmd, slave)
			out := readPty(master)
			t.Cleanup(func() { t.Logf("terminal:\n%s", out.String()) })
			waitFor(t, "the prompt "+c.prompt, func() bool { return strings.Contains(out.String(), c.prompt) })
			if echoOn(t, slave) {
				t.Fatal("the terminal echoes at the prompt")
			}
			switch c.interrupt {
			case "^C":
				master.Write([]byte{3})
			case "INT":
				cmd.Process.Signal(syscall.SIGINT)
			case "TERM":
				cmd.Process.Signal(syscall.SIGTERM)
			}
			code := waitExit(t, cmd, c.name)
			if code != c.want {
				t.Errorf("exit %d, want %d", code, c.want)
			}
			if !echoOn(t, slave) {
				t.Error("the terminal was left without echo")
			}
			if _, err := os.Stat(filepath.Join(w.home, "run.pid")); err == nil {
				t.Error("the pid file was left behind")
			}
		})
	}
}

// The same at the prompt for a password the rc file does not give: the
// terminal echoes again and the status is 130, with the pid file removed.
func TestInterruptAtRcPasswordPrompt(t *testing.T) {
	w := newUserWorld(t)
	w.writeRC(t, filepath.Join(w.home, ".fetchmailrc"), `set pidfile "~/run.pid"
poll popserver.invalid proto pop3 user joe
`)
	master, slave := openPty(t)
	cmd := w.command(t)
	startOnPty(t, cmd, slave)
	out := readPty(master)
	t.Cleanup(func() { t.Logf("terminal:\n%s", out.String()) })
	waitFor(t, "the password prompt", func() bool { return strings.Contains(out.String(), "Enter password for joe@popserver.invalid: ") })
	master.Write([]byte{3})
	if code := waitExit(t, cmd, "^C"); code != 130 {
		t.Errorf("exit %d, want 130", code)
	}
	if !echoOn(t, slave) {
		t.Error("the terminal was left without echo")
	}
}

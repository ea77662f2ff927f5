// Package docs holds gofetchmail's documentation; its test runs the
// examples that are programs.
package docs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The ip-up hook maps gofetchmail's exit codes: 0 and 1 succeed, others fail
// with a message naming the problem; "down" events do nothing.
func TestIPUpHook(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "gofetchmail")
	log := filepath.Join(dir, "calls")
	os.WriteFile(fake, []byte("#!/bin/sh\necho \"$@\" >>"+log+"\nexit $FAKE_STATUS\n"), 0o755)
	me, _ := exec.Command("id", "-un").Output()
	run := func(status, action string) (int, string) {
		cmd := exec.Command("./ip-up/gofetchmail-ip-up", "ppp0", action)
		cmd.Env = append(os.Environ(), "GOFETCHMAIL="+fake, "FAKE_STATUS="+status,
			"MAILUSER="+strings.TrimSpace(string(me)), "PATH=/nonexistent:/usr/bin:/bin")
		out, _ := cmd.CombinedOutput()
		return cmd.ProcessState.ExitCode(), string(out)
	}
	for status, want := range map[string]int{"0": 0, "1": 0, "2": 1, "3": 1} {
		if got, out := run(status, "up"); got != want {
			t.Errorf("gofetchmail exit %s: hook exit %d, want %d (%s)", status, got, want, out)
		}
	}
	os.Remove(log)
	if got, _ := run("2", "down"); got != 0 {
		t.Errorf("down event: exit %d, want 0", got)
	}
	if _, err := os.Stat(log); err == nil {
		t.Error("a down event ran gofetchmail")
	}
}

// The systemd unit runs gofetchmail in the foreground with a poll interval,
// and stops it with --quit.
func TestSystemdUnit(t *testing.T) {
	b, err := os.ReadFile("systemd/gofetchmail.service")
	if err != nil {
		t.Fatal(err)
	}
	unit := string(b)
	for _, want := range []string{"ExecStart=%h/go/bin/gofetchmail --nodetach -d 300\n", "ExecStop=%h/go/bin/gofetchmail --quit\n", "[Install]\n"} {
		if !strings.Contains(unit, want) {
			t.Errorf("unit lacks %q", want)
		}
	}
	if path, err := exec.LookPath("systemd-analyze"); err == nil {
		if out, err := exec.Command(path, "verify", "--user", "systemd/gofetchmail.service").CombinedOutput(); err != nil {
			t.Logf("systemd-analyze verify: %v\n%s", err, out)
		}
	}
}

// The man page renders without groff warnings.
func TestManPage(t *testing.T) {
	man, err := exec.LookPath("man")
	if err != nil {
		t.Skip("man not installed")
	}
	cmd := exec.Command(man, "--warnings", "-l", "gofetchmail.1")
	cmd.Env = append(os.Environ(), "MANWIDTH=80", "LC_ALL=C.UTF-8", "MANPAGER=cat", "PAGER=cat")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("man: %v\n%s", err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("groff warnings:\n%s", stderr.String())
	}
	for _, want := range []string{"SYNOPSIS", "EXIT STATUS", "sshtunnel", "--maildir"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("rendered page lacks %q", want)
		}
	}
}

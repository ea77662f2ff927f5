package main

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/gofetchmail/gofetchmail/fetch"
)

// TestDaemonCyclesShareOneSSHLogin runs two daemon cycles of the seed rc
// file over the embedded SSH server: the daemon's runner keeps the SSH
// connection, so there is one login for both; a one-shot poll logs in anew.
func TestDaemonCyclesShareOneSSHLogin(t *testing.T) {
	rig := newRig(t)
	f := newFlags(io.Discard)
	if err := f.fs.Parse([]string{"-f", rig.rc, "--maildir", rig.maildir}); err != nil {
		t.Fatal(err)
	}
	cfg, code := loadConfig(rig.rc, rig.home, f, io.Discard)
	if cfg == nil {
		t.Fatalf("loading the rc file: exit %d", code)
	}
	opts := fetch.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Home: rig.home, Version: version}
	runner := fetch.NewRunner(opts)
	defer runner.Close()
	ctx := context.Background()
	if code, _ := pollCycle(ctx, cfg, f, opts, runner, 0); code != 0 {
		t.Fatalf("first cycle: exit %d, want 0", code)
	}
	if code, _ := pollCycle(ctx, cfg, f, opts, runner, 1); code != 1 {
		t.Fatalf("second cycle: exit %d, want 1 (no mail)", code)
	}
	if n := rig.ssh.LoginCount(); n != 1 {
		t.Errorf("two daemon cycles logged in %d times, want 1", n)
	}
	if code, _ := pollCycle(ctx, cfg, f, opts, nil, 0); code != 1 {
		t.Fatalf("one-shot poll: exit %d, want 1", code)
	}
	if n := rig.ssh.LoginCount(); n != 2 {
		t.Errorf("after a one-shot poll: %d logins, want 2", n)
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Two idle entries: --configdump keeps fetchmail's refusal (exit 5); a run
// accepts them (gofetchmail serves every IDLE in one daemon). The 6.5
// options --idletimeout and --forceidle reach the configuration.
func TestMultiIdleAndIdleOptions(t *testing.T) {
	dir := t.TempDir()
	rc := filepath.Join(dir, "rc")
	src := "set idfile " + filepath.Join(dir, "ids") + "\npoll 127.0.0.1 proto imap port 1 user a password x sslproto '' idle\npoll localhost proto imap port 1 user b password x sslproto '' idle\n"
	if err := os.WriteFile(rc, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := runCmd(t, "-f", rc, "--configdump"); code != 5 || !strings.Contains(out, "idle mode does not work") {
		t.Errorf("--configdump: exit %d, want fetchmail's 5:\n%s", code, out)
	}
	// Nothing listens on port 1: a socket error (2), not a syntax error.
	if code, out := runCmd(t, "-f", rc, "--pidfile", filepath.Join(dir, "pid")); code != 2 {
		t.Errorf("a run with two idle entries: exit %d, want 2 (port 1 refuses):\n%s", code, out)
	}
	one := filepath.Join(dir, "one")
	os.WriteFile(one, []byte("poll 127.0.0.1 proto imap user a password x idle\n"), 0o600)
	code, out := runCmd(t, "-f", one, "--configdump", "--idletimeout", "60", "--forceidle")
	if code != 0 || !strings.Contains(out, `"idletimeout": 60`) || !strings.Contains(out, `"forceidle": true`) {
		t.Errorf("--idletimeout/--forceidle: exit %d\n%s", code, out)
	}
}

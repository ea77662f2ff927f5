package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDoctorSubcommand: "gofetchmail doctor -f RC" reaches the doctor
// (its lines on stdout, fetchmail's status of the failure), and a bad
// option is a usage error (5).
func TestDoctorSubcommand(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("FETCHMAILHOME", "")
	rc := filepath.Join(home, "rc")
	os.WriteFile(rc, []byte("poll example.org protocol pop3 user u password x\n"), 0o644)
	var out, errb bytes.Buffer
	if code := run([]string{"doctor", "-f", rc}, &out, &errb); code != 6 {
		t.Errorf("group-readable rc: exit %d, want 6\n%s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "✘ rc file") || !strings.Contains(out.String(), "next: chmod") {
		t.Errorf("no ✘ rc file line with the fix:\n%s", out.String())
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"doctor", "--bogus"}, &out, &errb); code != 5 || !strings.Contains(errb.String(), "usage: gofetchmail doctor") {
		t.Errorf("bad option: exit %d\n%s", code, errb.String())
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An rc file others may read is refused as fetchmail refuses it (status 6,
// fetchmail's line naming the absolute path), with the command that fixes
// it; --configdump refuses it too and prints nothing (it would print the
// password); -V goes on, as fetchmail's does, and shows no secret.
func TestRcFileModeMessages(t *testing.T) {
	home := t.TempDir()
	rc := filepath.Join(home, "my.rc")
	if err := os.WriteFile(rc, []byte("poll mail.example.org proto pop3 user joe password S3cretPW\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := "File " + rc + " must have no more than -rwx------ (0700) permissions.\n" +
		"gofetchmail: to fix it, run: chmod 600 " + rc + "\n"
	for _, args := range [][]string{{"-f", "my.rc"}, {"-f", "my.rc", "--configdump"}, {"-c", "-f", rc}} {
		r := runBinary(t, home, args...)
		if r.code != 6 {
			t.Errorf("%v: exit %d, want 6 (fetchmail's)", args, r.code)
		}
		if r.stderr != want {
			t.Errorf("%v: stderr\n%s\nwant\n%s", args, r.stderr, want)
		}
		if r.stdout != "" {
			t.Errorf("%v: printed on stdout:\n%s", args, r.stdout)
		}
	}
	for _, args := range [][]string{{"-f", "my.rc", "-V"}, {"-f", "my.rc", "-V", "--configdump"}} {
		r := runBinary(t, home, args...)
		if r.code != 0 {
			t.Errorf("%v: exit %d, want 0", args, r.code)
		}
		if strings.Contains(r.stdout+r.stderr, "S3cretPW") {
			t.Errorf("%v shows the password", args)
		}
	}
}

// -f naming a missing file is an empty configuration, as in fetchmail:
// "no mailservers" and status 5, and gofetchmail says the file is missing.
func TestMissingRcFile(t *testing.T) {
	home := t.TempDir()
	r := runBinary(t, home, "-f", "missing.rc")
	if r.code != 5 {
		t.Errorf("exit %d, want 5 (fetchmail's)", r.code)
	}
	if !strings.Contains(r.stderr, "the rc file "+filepath.Join(home, "missing.rc")+" does not exist") {
		t.Errorf("stderr does not name the missing file:\n%s", r.stderr)
	}
}

// A misspelt keyword: fetchmail's syntax error, then the nearest keyword.
func TestMisspeltKeywordHint(t *testing.T) {
	home := t.TempDir()
	rc := filepath.Join(home, "my.rc")
	if err := os.WriteFile(rc, []byte("poll mail.example.org proto pop3\n  user joe pasword S3cretPW\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runBinary(t, home, "-f", rc)
	want := "gofetchmail:" + rc + ":3: syntax error at end of input\n" +
		"gofetchmail:" + rc + `:2: "pasword": did you mean "password"?` + "\n"
	if r.code != 5 || r.stderr != want {
		t.Errorf("exit %d, stderr\n%s\nwant 5 and\n%s", r.code, r.stderr, want)
	}
}

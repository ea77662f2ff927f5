package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLogfileFollowsRotation writes, renames the log away (logrotate) and
// writes again: the second line must land in a new file at the path.
func TestLogfileFollowsRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "fetchmail.log")
	lf, err := openReopening(path)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	if _, err := lf.Write([]byte("one\n")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if _, err := lf.Write([]byte("two\n")); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{path + ".1": "one\n", path: "two\n"} {
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s holds %q, want %q", file, got, want)
		}
	}
}

// TestProgressOnStdout expects progress on standard output and errors on
// standard error, as fetchmail writes them, without timestamps.
func TestProgressOnStdout(t *testing.T) {
	var stdout, stderr strings.Builder
	log, closeLog, err := openLogger(newFlags(io.Discard), false, "", &stdout, &stderr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeLog()
	log.Info("3 messages for msingh at localhost")
	log.Error("connection refused")
	if stdout.String() != "gofetchmail: 3 messages for msingh at localhost\n" {
		t.Errorf("stdout %q", stdout.String())
	}
	if stderr.String() != "gofetchmail: connection refused\n" {
		t.Errorf("stderr %q", stderr.String())
	}
}

// The log file is never opened through a symbolic link (another user
// could point a log in a shared directory at one of the user's files), at
// the start or after a rotation, nor appended to when it belongs to
// someone else; the refusal is one line saying what to do.
func TestLogfileRefusesPlanted(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious"), 0o600)
	path := filepath.Join(dir, "fetchmail.log")
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	_, err := openReopening(path)
	if err == nil || !strings.Contains(err.Error(), "symbolic link") || !strings.Contains(err.Error(), "set logfile") {
		t.Errorf("symlinked log: %v", err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "precious" {
		t.Fatalf("written through the link: %q", got)
	}

	// A rotation that leaves a link at the path: the next write refuses it.
	os.Remove(path)
	lf, err := openReopening(path)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	os.Rename(path, path+".1")
	os.Symlink(victim, path)
	if _, err := lf.Write([]byte("line\n")); err == nil {
		t.Error("a write after the path became a link succeeded")
	}
	if got, _ := os.ReadFile(victim); string(got) != "precious" {
		t.Fatalf("written through the link after rotation: %q", got)
	}

	if os.Geteuid() != 0 {
		t.Skip("needs root to make the log belong to another user (nobody)")
	}
	other := filepath.Join(dir, "other.log")
	os.WriteFile(other, nil, 0o666)
	os.Chown(other, 65534, 65534)
	if _, err := openReopening(other); err == nil || !strings.Contains(err.Error(), "owned by uid 65534") {
		t.Errorf("another user's log: %v", err)
	}
}

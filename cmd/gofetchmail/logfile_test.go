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

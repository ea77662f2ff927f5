package main

import (
	"os"
	"path/filepath"
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

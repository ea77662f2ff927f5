package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Two instances that both found no pid file race to create it: the file is
// created exclusively, so the second one fails (and exits 8) instead of
// overwriting the first one's and polling beside it.
func TestPidLockExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fetchmail.pid")
	first := &pidLock{path: path}
	var stderr bytes.Buffer
	if err := first.acquire(300, &stderr); err != nil {
		t.Fatalf("first acquire: %v (%s)", err, stderr.String())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.Itoa(os.Getpid()) + "\n300\n"; string(data) != want {
		t.Errorf("pid file = %q, want %q (fetchmail's format: pid, then the interval)", data, want)
	}

	second := &pidLock{path: path}
	stderr.Reset()
	if err := second.acquire(0, &stderr); err == nil {
		t.Fatal("second acquire of a held pid file succeeded")
	}
	if !strings.Contains(stderr.String(), "lock creation failed") {
		t.Errorf("stderr = %q, want fetchmail's \"lock creation failed\"", stderr.String())
	}
	second.release() // must not remove the first one's file
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the loser of the race removed the winner's pid file: %v", err)
	}
	first.release()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("pid file still there after release: %v", err)
	}
}

// A pid file naming this very process, or empty, is stale: a process of
// the same pid that is gone (a container restarted) left it.
func TestReadPidfileStale(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"own":   strconv.Itoa(os.Getpid()) + "\n",
		"empty": "",
		"junk":  "x\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if pid, _, stale, _ := readPidfile(path); pid != 0 || !stale {
			t.Errorf("%s pid file %q: pid %d, stale %v; want 0, stale", name, content, pid, stale)
		}
	}
	if pid, _, stale, _ := readPidfile(filepath.Join(dir, "missing")); pid != 0 || stale {
		t.Errorf("missing pid file: pid %d, stale %v; want 0, not stale", pid, stale)
	}
}

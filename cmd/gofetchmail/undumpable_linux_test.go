package main

import (
	"io"
	"testing"

	"golang.org/x/sys/unix"
)

// TestProcessUndumpable: run, whatever its arguments, leaves the process
// undumpable before it reads anything, so that a core dump
// (GOTRACEBACK=crash, ulimit -c unlimited) cannot hold the password.
func TestProcessUndumpable(t *testing.T) {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	run([]string{"--version"}, io.Discard, io.Discard)
	d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d != 0 {
		t.Fatalf("after run the process is dumpable (PR_GET_DUMPABLE = %d): a core dump could hold the password", d)
	}
}

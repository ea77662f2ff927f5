package main

import "golang.org/x/sys/unix"

// makeUndumpable clears the process's dumpable flag (prctl(2)
// PR_SET_DUMPABLE 0): no core file is written, even with GOTRACEBACK=crash
// and `ulimit -c unlimited`, and other processes of the same user cannot
// ptrace it or read its /proc/PID/mem. run calls it before anything secret
// (a password from the rc file, a prompt, a passwordfd, ~/.netrc, a token)
// is read, so no core dump can hold one (docs/security.md).
func makeUndumpable() error {
	return unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
}

// Command gofetchmail fetches mail from POP3 servers into local mailboxes.
// It reads fetchmail's ~/.fetchmailrc, takes fetchmail's options and exits
// with fetchmail's codes, and reaches servers through an in-process SSH
// channel where the rc file asks for an ssh -L forward.
//
// This package is thin: it parses flags, loads the configuration, sets up
// logging and the daemon loop, and hands each poll to package fetch.
package main

import (
	"os"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = defaultVersion

// defaultVersion is the release of a build that sets none; -V then
// prefers the module version Go recorded, if any.
const defaultVersion = "0.1.0-dev"

// gcPercent is the garbage collector's target unless GOGC is set. A fetch
// streams: its live heap is a few buffers, and nearly everything else it
// allocates (SSH packets above all, one buffer each in
// golang.org/x/crypto/ssh) is garbage at once. Collecting at 50 % growth
// instead of 100 % keeps the peak RSS of 200 messages of 1 MB over SSH
// near 17 MB instead of 22-25 MB, for a few milliseconds of CPU per poll
// (docs/performance.md).
const gcPercent = 50

// buildCommit is the source commit, set with -ldflags "-X main.buildCommit=..."
// (the Makefile does); when empty, --version takes the commit Go stamped
// into the binary, if any.
var buildCommit string

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

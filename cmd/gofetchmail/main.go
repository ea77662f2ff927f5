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
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// buildCommit is the source commit, set with -ldflags "-X main.buildCommit=..."
// (the Makefile does); when empty, --version takes the commit Go stamped
// into the binary, if any.
var buildCommit string

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

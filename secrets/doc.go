// Package secrets reads the passwords an rc file points at instead of
// giving them: passwordfile (the file's first line, read at every poll),
// passwordfd (the descriptor's first line, read once per process) and
// ~/.netrc (ftp(1)'s format, read as fetchmail 6.4 reads it).
//
// Contract: what a process must remember (what each passwordfd gave, and
// the .netrc versions already warned about) lives in a Store made once per
// process and handed down by its owner (fetch's Runner, through
// fetch.Options); the package holds no mutable state of its own. A Store
// never logs: it returns the secret and the warnings, and the caller says
// them, so no password reaches a log by way of this package.
package secrets

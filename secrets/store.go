package secrets

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"

	"github.com/gofetchmail/gofetchmail/rcparse"
)

// Store is the memory of one process's password sources. Make one with
// NewStore and share it between every poll of the process; it is safe for
// concurrent use (the IMAP IDLE sessions of a daemon poll in parallel).
type Store struct {
	mu     sync.Mutex
	fds    map[int]fdSecret
	warned map[string]bool // "path|size|mtime" of the .netrc versions warned about
}

// fdSecret is what one passwordfd gave.
type fdSecret struct {
	pw string
}

// NewStore makes an empty Store.
func NewStore() *Store {
	return &Store{fds: map[int]fdSecret{}, warned: map[string]bool{}}
}

// FD returns the first line of descriptor fd (passwordfd). A descriptor can
// be read only once, but several polls of a run (or of a daemon) need it:
// the first read is kept and returned to every later call.
func (s *Store) FD(fd int) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.fds[fd]; ok {
		return v.pw, nil
	}
	// The descriptor is not ours to close, nor to hand to an *os.File
	// whose finalizer would close it once the Store is gone (when its
	// number may be another file's): read a duplicate, which shares its
	// offset, and close only that.
	dup, err := syscall.Dup(fd)
	if err != nil {
		return "", fmt.Errorf("passwordfd %d: not an open file descriptor: %w", fd, err)
	}
	f := os.NewFile(uintptr(dup), fmt.Sprintf("passwordfd %d", fd))
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("passwordfd %d: %w", fd, err)
	}
	pw := strings.TrimRight(line, "\r\n")
	s.fds[fd] = fdSecret{pw: pw}
	return pw, nil
}

// File returns the first line of the passwordfile at path, read anew at
// every call so that a changed file is seen at the next poll.
func File(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("passwordfile: %w", err)
	}
	return FirstLine(data), nil
}

// FirstLine is data up to its first newline, without a trailing CR.
func FirstLine(data []byte) string {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	return strings.TrimRight(string(line), "\r")
}

// NetrcResult is what the .netrc gave for one poll entry.
type NetrcResult struct {
	Password string
	Found    bool
	// Warnings are fetchmail's lines about the file's syntax, and Loose
	// the warning about a file open to group or others ("" if it is not).
	// Both are given once per version of the file (path, size, mtime) in
	// the life of the Store, so that a daemon says them once, not at every
	// poll. They never hold a password.
	Warnings []string
	Loose    string
}

// Netrc looks up the password of the entry (srv, u) in the .netrc file at
// path (fetchmail's ~/.netrc, the source between the rc file's and the
// prompt). An unreadable file is an error; a missing one finds nothing.
func (s *Store) Netrc(path string, srv *rcparse.Server, u *rcparse.User) (NetrcResult, error) {
	n, err := LoadNetrc(path)
	if err != nil {
		return NetrcResult{}, err
	}
	pw, ok := n.Password(srv, u)
	if !ok {
		return NetrcResult{}, nil
	}
	res := NetrcResult{Password: pw, Found: true}
	if fi, err := os.Stat(path); err == nil {
		key := fmt.Sprintf("%s|%d|%d", path, fi.Size(), fi.ModTime().UnixNano())
		s.mu.Lock()
		done := s.warned[key]
		s.warned[key] = true
		s.mu.Unlock()
		if !done {
			res.Warnings = n.Warnings
			if n.Loose() {
				res.Loose = fmt.Sprintf("%s is accessible to group or others (mode %04o): fetchmail 6.5 ignores such a file; chmod 600 it", path, n.Mode)
			}
		}
	}
	return res, nil
}

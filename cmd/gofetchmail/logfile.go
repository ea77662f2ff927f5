package main

import (
	"fmt"
	"os"
	"sync"

	"github.com/gofetchmail/gofetchmail/statefile"
)

// reopeningFile is an append-only log file that follows rotation: before
// each write it compares the file at its path with the one it holds, and
// reopens (creating it) when the path now names another file or none; each
// open refuses a symbolic link or another user's file at the path. A
// logrotate "create" or "move and signal" setup therefore needs no signal.
// fetchmail 6.4 opens its logfile once and keeps writing to the rotated one.
type reopeningFile struct {
	mu   sync.Mutex
	path string
	f    *os.File
}

func openReopening(path string) (*reopeningFile, error) {
	r := &reopeningFile{path: path}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *reopeningFile) open() error {
	// Never through a symbolic link, never into another user's file: a
	// log in a shared directory could otherwise be pointed at one of the
	// user's files, or read by whoever made it (statefile.OpenAppend).
	f, err := statefile.OpenAppend(r.path)
	if statefile.IsUntrusted(err) {
		return fmt.Errorf("%w; not logging to it: remove it if you did not make it, or choose a log file in a directory only you can write (set logfile, -L)", err)
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", r.path, err)
	}
	if r.f != nil {
		r.f.Close()
	}
	r.f = f
	return nil
}

// rotated reports whether the path no longer names the open file.
func (r *reopeningFile) rotated() bool {
	onDisk, err := os.Stat(r.path)
	if err != nil {
		return true
	}
	held, err := r.f.Stat()
	return err != nil || !os.SameFile(onDisk, held)
}

func (r *reopeningFile) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rotated() {
		if err := r.open(); err != nil {
			return 0, err
		}
	}
	return r.f.Write(p)
}

// Close closes the file.
func (r *reopeningFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.f.Close()
}

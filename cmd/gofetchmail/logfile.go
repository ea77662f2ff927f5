package main

import (
	"fmt"
	"os"
	"sync"
)

// reopeningFile is an append-only log file that follows rotation: before
// each write it compares the file at its path with the one it holds, and
// reopens (creating it) when the path now names another file or none. A
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
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
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

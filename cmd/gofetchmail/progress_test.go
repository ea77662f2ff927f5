package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/fetch"
)

func TestStatusLine(t *testing.T) {
	var term bytes.Buffer
	s := newStatusLine(&term)
	p := fetch.Progress{Poll: "u@h", Done: 1, Total: 4, Bytes: 1 << 20, TotalBytes: 4 << 20, Elapsed: 100 * time.Millisecond}
	s.update(p)
	if term.Len() != 0 {
		t.Fatalf("a short fetch shows progress: %q", term.String())
	}
	p.Done, p.Elapsed = 2, 2*time.Second
	s.update(p)
	if got := term.String(); got != "\r\033[Ku@h: 2/4 messages, 1.0/4.0 MB, 0.5 MB/s" {
		t.Errorf("progress line %q", got)
	}
	// A log line clears the status line and gets it back after.
	term.Reset()
	h := newLineHandler(&term, slog.LevelInfo, false)
	h.status = s
	log := slog.New(h)
	log.Info("reading message 3")
	if got := term.String(); got != "\r\033[Kgofetchmail: reading message 3\nu@h: 2/4 messages, 1.0/4.0 MB, 0.5 MB/s" {
		t.Errorf("log line with progress: %q", got)
	}
	// Done: the line goes away.
	term.Reset()
	p.Done = 4
	s.update(p)
	if got := term.String(); got != "\r\033[K" {
		t.Errorf("finished: %q", got)
	}
	term.Reset()
	log.Info("4 messages deleted")
	if strings.Contains(term.String(), "messages,") {
		t.Errorf("a finished progress line came back: %q", term.String())
	}
}

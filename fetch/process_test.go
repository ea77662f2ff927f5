package fetch

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// What a process remembers lives in its Options (made once by Run or
// NewRunner), not in the package: a notice logOnce gave for one process is
// given again by another, and once only by each; two Runners do not share
// their secrets or dns caches.
func TestProcessStateIsPerProcess(t *testing.T) {
	var log bytes.Buffer
	a := &Options{Logger: slog.New(slog.NewTextHandler(&log, nil))}
	b := &Options{Logger: a.Logger}
	a.fillProcess()
	for range 2 {
		logOnce(a, "maildir /m", "notice of a")
		logOnce(b, "maildir /m", "notice of b")
	}
	if n, m := strings.Count(log.String(), "notice of a"), strings.Count(log.String(), "notice of b"); n != 1 || m != 1 {
		t.Errorf("notices logged %d and %d times, want once each:\n%s", n, m, log.String())
	}
	r1, r2 := NewRunner(Options{}), NewRunner(Options{})
	defer r1.Close()
	defer r2.Close()
	if r1.opts.Secrets == nil || r1.opts.Aliases == nil || r1.opts.Secrets == r2.opts.Secrets || r1.opts.Aliases == r2.opts.Aliases {
		t.Errorf("Runners' process values: %p %p, %p %p", r1.opts.Secrets, r2.opts.Secrets, r1.opts.Aliases, r2.opts.Aliases)
	}
	given := Options{}
	given.fillProcess()
	r3 := NewRunner(given)
	defer r3.Close()
	if r3.opts.Secrets != given.Secrets || r3.opts.Aliases != given.Aliases {
		t.Error("a Runner replaced the process values it was given")
	}
}

package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gofetchmail/gofetchmail/fetch"
)

// progressDelay: fetches shorter than this show no progress line.
const progressDelay = time.Second

// statusLine is the one-line progress display of long fetches on a
// terminal: "msingh@popserver: 1200/2000 messages, 4.7/7.8 MB, 3.1 MB/s".
// Log lines written through the lineHandler clear it first and redraw it
// after, so the two never mix. Off a terminal there is no statusLine.
type statusLine struct {
	mu   sync.Mutex
	w    io.Writer
	text string // what is shown now; "" when nothing is
}

func newStatusLine(w io.Writer) *statusLine { return &statusLine{w: w} }

// update is a fetch.Options.Progress function.
func (s *statusLine) update(p fetch.Progress) {
	if p.Elapsed < progressDelay && p.Done < p.Total {
		return
	}
	mb := func(n int64) float64 { return float64(n) / (1 << 20) }
	text := fmt.Sprintf("%s: %d/%d messages, %.1f/%.1f MB", p.Poll, p.Done, p.Total, mb(p.Bytes), mb(p.TotalBytes))
	if secs := p.Elapsed.Seconds(); secs > 0 {
		text += fmt.Sprintf(", %.1f MB/s", mb(p.Bytes)/secs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.Done >= p.Total {
		// Finished: leave nothing behind but the log lines.
		if s.text != "" {
			fmt.Fprint(s.w, "\r\033[K")
			s.text = ""
		}
		return
	}
	s.text = text
	fmt.Fprint(s.w, "\r\033[K"+text)
}

// around runs write (a log line) with the status line cleared, then shows
// it again.
func (s *statusLine) around(write func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.text != "" {
		fmt.Fprint(s.w, "\r\033[K")
	}
	write()
	if s.text != "" {
		fmt.Fprint(s.w, s.text)
	}
}

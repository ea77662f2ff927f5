package fetch

import (
	"sync"
	"time"

	"github.com/gofetchmail/gofetchmail/ledger"
)

// process is what lives as long as the process that polls (a daemon's
// Runner, or one call of Run) and is passed down to every session: the
// ledger (its open journals, the turn its commits take) and the memory of
// the oversized-messages warnings sent. fetch keeps no such state in
// package variables.
type process struct {
	ledger *ledger.Ledger
	warned warnMemory
}

func newProcess() *process { return &process{ledger: ledger.New()} }

// warnMemory holds, per idfile account key, when an oversized-messages
// warning was last sent by this process.
type warnMemory struct {
	mu   sync.Mutex
	last map[string]time.Time
}

func (w *warnMemory) get(key string) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.last[key]
	return t, ok
}

func (w *warnMemory) set(key string, t time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last == nil {
		w.last = map[string]time.Time{}
	}
	w.last[key] = t
}

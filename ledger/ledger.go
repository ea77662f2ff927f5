package ledger

import (
	"sync"
)

// Ledger is the durability state of one process: the journals of its open
// batches (which recovery leaves alone: their pid is alive, but so is the
// pid of a batch this process left unrecorded, which recovery must check)
// and the lock that makes commits and recovery take turns. The fetch
// Runner holds one for the life of the process and passes it down; the
// zero value is not ready, use New.
type Ledger struct {
	commit sync.Mutex // one commit or recovery at a time (IDLE sessions commit concurrently)

	mu   sync.Mutex
	live map[string]bool
}

// New returns an empty Ledger.
func New() *Ledger { return &Ledger{live: map[string]bool{}} }

func (l *Ledger) setLive(path string, live bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if live {
		l.live[path] = true
	} else {
		delete(l.live, path)
	}
}

func (l *Ledger) isLive(path string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.live[path]
}

package fetch

import (
	"testing"
	"time"
)

// TestBatchDue: by default a batch is group-committed: at least minBatch
// messages, more while the previous overlapped commit runs, or while
// retrieving it took less than commitShare times the last commit made at
// once; never more than maxBatch. An explicit BatchSize is exact.
func TestBatchDue(t *testing.T) {
	pending := func(n int) []message { return make([]message, n) }
	running := &inflight{done: make(chan error, 1)}
	finished := &inflight{done: make(chan error, 1)}
	finished.done <- nil
	now := time.Now()
	cases := []struct {
		name string
		size int // Options.BatchSize
		n    int // messages pending
		pace batchPace
		in   *inflight
		want bool
	}{
		{"empty", 0, 0, batchPace{}, nil, false},
		{"below the least size", 0, minBatch - 1, batchPace{}, nil, false},
		{"first batch", 0, minBatch, batchPace{}, nil, true},
		{"overlapped, previous commit running", 0, minBatch, batchPace{overlapped: true}, running, false},
		{"overlapped, previous commit returned", 0, minBatch, batchPace{overlapped: true}, finished, true},
		{"overlapped, nothing in flight", 0, minBatch, batchPace{overlapped: true}, nil, true},
		{"overlapped, at the cap", 0, maxBatch, batchPace{overlapped: true}, running, true},
		{"at once, slow commit", 0, minBatch, batchPace{started: now, commitTook: time.Hour}, nil, false},
		{"at once, slow commit, at the cap", 0, maxBatch, batchPace{started: now, commitTook: time.Hour}, nil, true},
		{"at once, commit paid for", 0, minBatch, batchPace{started: now.Add(-time.Second), commitTook: time.Millisecond}, nil, true},
		{"explicit size", 3, 3, batchPace{overlapped: true}, running, true},
		{"explicit size, below", 3, 2, batchPace{}, nil, false},
		{"explicit size above the cap", 2000, maxBatch, batchPace{}, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &session{opts: &Options{BatchSize: c.size}, pending: pending(c.n), batch: c.pace, inflight: c.in}
			if got := s.batchDue(); got != c.want {
				t.Errorf("batchDue() = %v, want %v", got, c.want)
			}
		})
	}
	// A commit that returned while the batch grew is kept for awaitCommit.
	if !finished.ready() || finished.wait() != nil {
		t.Error("a returned commit is not ready, or lost its result")
	}
}

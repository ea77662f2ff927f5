package deliver

import "time"

// The two ways a Maildir makes a batch durable (flushDeferred).
const (
	viaFsync  = iota // an fsync per file, Parallel at once
	viaSyncfs        // one syncfs(2) for the batch
)

// syncChooser picks, batch by batch, the cheaper way to make a maildir
// batch durable, by what each cost per file so far. Which one wins depends
// on what else writes to the file system at the time (a syncfs writes out
// and waits for everyone's data), so both are measured in the poll itself:
// the first batch takes syncfs, the second the fsyncs, then the cheaper
// one, and every probeEvery-th batch the other, as the load may change.
// A poll of 2000 messages in batches of 64 thus pays for the dearer way in
// about 5 of its 32 batches. The zero value is ready; not safe for
// concurrent use (Maildir holds its mutex).
type syncChooser struct {
	cost    [2]time.Duration // per file, a running average; 0: not measured yet
	batches int
}

const probeEvery = 8

// pick returns the way to take for the next batch.
func (c *syncChooser) pick() int {
	c.batches++
	switch {
	case c.cost[viaSyncfs] == 0:
		return viaSyncfs
	case c.cost[viaFsync] == 0:
		return viaFsync
	}
	best := viaFsync
	if c.cost[viaSyncfs] < c.cost[viaFsync] {
		best = viaSyncfs
	}
	if c.batches%probeEvery == 0 {
		return 1 - best
	}
	return best
}

// record notes that way made files durable in d.
func (c *syncChooser) record(way, files int, d time.Duration) {
	if files <= 0 {
		return
	}
	per := max(d/time.Duration(files), 1)
	if c.cost[way] == 0 {
		c.cost[way] = per
		return
	}
	c.cost[way] = (c.cost[way] + per) / 2
}

package deliver

import (
	"fmt"
	"os"
	"time"
)

// Sealer is a Stager whose batches can be closed off, so that a caller can
// make one batch durable and visible while it writes the next: Seal takes
// the messages committed so far as a batch of their own and starts their
// fsyncs; messages committed after Seal belong to the next batch, which
// the sealed batch's Prepare and Publish never touch. The sealed batch may
// be finished from another goroutine while Begin, Write and Commit go on.
type Sealer interface {
	Stager
	Seal() SealedBatch
}

// SealedBatch is a batch closed off by Seal. Prepare makes its messages
// durable where no mail reader sees them; Publish (after Prepare) makes
// them visible, durably. If Prepare fails none of them is delivered; if
// Publish fails some may be (a later poll may deliver them again).
type SealedBatch interface {
	Prepare() error
	Publish() error
}

var _ Sealer = (*Maildir)(nil)

// Seal closes off the messages committed since the last Seal, Prepare or
// Sync; their files are made durable by the sealed batch's Prepare, the
// way Prepare does it (syncfs or parallel fsyncs, flushDeferred).
func (m *Maildir) Seal() SealedBatch {
	m.mu.Lock()
	defer m.mu.Unlock()
	// Every deferred file is one of the batch being sealed.
	b := &maildirBatch{m: m, txs: m.batch, deferred: m.deferred, way: m.way, measured: m.measured}
	m.batch, m.deferred, m.deferredBytes = nil, nil, 0
	m.chosen = false
	return b
}

// maildirBatch is a sealed batch of a Maildir.
type maildirBatch struct {
	m        *Maildir
	txs      []*maildirTx
	deferred []*maildirTx // those whose fsync has not started
	way      int          // how they are made durable (Maildir.pickWay)
	measured bool         // the way is m.choice's, which learns its cost
}

// Prepare makes the batch's files durable in tmp/ and waits for it; if
// that failed for one, every file of the batch is removed from tmp/ and
// none is delivered.
func (b *maildirBatch) Prepare() error {
	m := b.m
	start := time.Now()
	way, files := m.flush(b.deferred, b.way, b.measured)
	b.deferred = nil
	var syncErr error
	for _, tx := range b.txs {
		if err := <-tx.synced; err != nil && syncErr == nil {
			syncErr = err
		}
	}
	if syncErr == nil && files > 0 {
		m.mu.Lock()
		m.choice.record(way, files, time.Since(start))
		m.mu.Unlock()
	}
	if syncErr != nil {
		for _, tx := range b.txs {
			os.Remove(tx.tmpPath())
		}
		b.txs = nil
	}
	return syncErr
}

// Publish renames the batch's files from tmp/ into new/ and fsyncs new/.
func (b *maildirBatch) Publish() error {
	if len(b.txs) == 0 {
		return nil
	}
	for i, tx := range b.txs {
		if err := renameFile(tx.tmpPath(), tx.newPath()); err != nil {
			for _, rest := range b.txs[i:] {
				os.Remove(rest.tmpPath())
			}
			return fmt.Errorf("maildir %s: rename into new/: %w", b.m.dir, err)
		}
	}
	return b.m.syncDir("new")
}

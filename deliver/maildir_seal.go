package deliver

import (
	"fmt"
	"os"
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
// Sync and starts their fsyncs.
func (m *Maildir) Seal() SealedBatch {
	m.mu.Lock()
	b := &maildirBatch{m: m, txs: m.batch}
	m.batch = nil
	// Every deferred file is in the batch being sealed: start them all.
	m.mu.Unlock()
	m.startFsyncs()
	return b
}

// maildirBatch is a sealed batch of a Maildir.
type maildirBatch struct {
	m   *Maildir
	txs []*maildirTx
}

// Prepare waits for the batch's fsyncs; if one failed, every file of the
// batch is removed from tmp/ and none is delivered.
func (b *maildirBatch) Prepare() error {
	var syncErr error
	for _, tx := range b.txs {
		if err := <-tx.synced; err != nil && syncErr == nil {
			syncErr = err
		}
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
		if err := os.Rename(tx.tmpPath(), tx.newPath()); err != nil {
			for _, rest := range b.txs[i:] {
				os.Remove(rest.tmpPath())
			}
			return fmt.Errorf("maildir %s: rename into new/: %w", b.m.dir, err)
		}
	}
	return b.m.syncDir("new")
}

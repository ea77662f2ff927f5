package ledger

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/gofetchmail/gofetchmail/deliver"
)

// Committer makes the batches of one delivery target durable and records
// their UIDs: stage, journal, publish, record, drop. Ledger.Open chooses it
// once, when the target opens. The engine calls Delivered after each
// message's Tx committed and Commit at the end of each batch; only the
// messages of a batch whose Commit returned nil may be deleted on the
// server. Close leaves the journal of a batch that was not recorded for
// the next run's Recover.
type Committer interface {
	// Bind sets the idfile key the UIDs of the next batch belong to (an
	// IMAP poll has one per folder). Call it between batches.
	Bind(account string)
	// Delivered notes a message whose Tx committed (for the journal); a
	// UID of "" (a message the server gives no usable UID) is journaled
	// and recorded never.
	Delivered(tx deliver.Tx, uid string)
	// Commit makes every message delivered since the last Commit durable
	// and visible, and records uids, the UIDs of those the engine still
	// vouches for (an IMAP server may turn out to give a UID to two
	// messages after a message was delivered), in the idfile durably. A
	// *TargetError means the target could not make the batch durable (the
	// messages stay on the server); any other error, that the idfile or
	// a journal could not be written.
	Commit(uids []string) error
	// Seal ends the batch of the messages delivered so far and returns
	// its commit: finish does what Commit does for that batch. When
	// overlapped, finish may run in another goroutine while the next
	// batch is delivered (one finish at a time, each before the next
	// Seal). Otherwise the target cannot close a batch off: finish must
	// run before anything more is delivered.
	Seal(uids []string) (finish func() error, overlapped bool)
	// Close ends the committer; a batch not recorded leaves its journal.
	Close()
}

// TargetError is a Commit failure of the delivery target itself (an fsync,
// a rename): none of the batch counts as delivered.
type TargetError struct{ Err error }

func (e *TargetError) Error() string { return e.Err.Error() }
func (e *TargetError) Unwrap() error { return e.Err }

// stager is a maildir: a deliverer whose batches are staged, then
// published.
type stager interface {
	deliver.Stager
	Path() string
}

// Open returns the committer of dlv, whose messages' UIDs go to uids
// under account:
//
//   - a maildir (deliver.Stager): the batch is staged durably in tmp/,
//     journaled (fsync'd), published, recorded, and its journal dropped;
//   - an mbox: the batch is journaled from before its first byte
//     (deliver.Mbox.OnBatch), made durable by one fsync, recorded;
//   - another deliver.Batcher: made durable (Sync), recorded;
//   - anything else (SMTP, LMTP, an MDA, BSMTP) has taken a message for
//     good when its Commit returns: each UID is journaled then, and the
//     batch recorded.
//
// Without an idfile path (tests, --check) nothing is journaled.
func (l *Ledger) Open(dlv deliver.Deliverer, uids *UIDStore, account string, log *slog.Logger) Committer {
	b := base{l: l, uids: uids, account: account, log: log}
	switch d := dlv.(type) {
	case stager:
		return &maildirCommitter{base: b, md: d}
	case *deliver.Mbox:
		c := &mboxCommitter{base: b, mb: d}
		if b.journaled() {
			d.OnBatch(c.onBatch)
		}
		return c
	case deliver.Batcher:
		return &syncCommitter{base: b, b: d}
	}
	return &deliveredCommitter{base: b}
}

// base is what every committer shares: the batch's UIDs and their record.
type base struct {
	l       *Ledger
	uids    *UIDStore
	account string
	log     *slog.Logger
}

func (b *base) Bind(account string) { b.account = account }

func (b *base) journaled() bool { return b.uids != nil && b.uids.Path() != "" }

// record durably records a batch's UIDs in the idfile.
func (b *base) record(uids []string) error { return b.recordAs(b.account, uids) }

func (b *base) recordAs(account string, uids []string) error {
	if b.uids == nil {
		return nil
	}
	b.uids.Add(account, uids...)
	return b.uids.Save()
}

// now is Seal for a target that cannot close a batch off.
func now(commit func([]string) error, uids []string) (func() error, bool) {
	return func() error { return commit(uids) }, false
}

// maildirCommitter: stage, journal, publish, record, drop. A crash between
// any two steps is finished by recoverMaildir: nothing is delivered twice.
type maildirCommitter struct {
	base
	md   stager
	keys []Entry
}

func (c *maildirCommitter) Delivered(tx deliver.Tx, uid string) {
	if k, ok := tx.(deliver.Keyed); ok && uid != "" {
		c.keys = append(c.keys, Entry{UID: uid, Key: k.Key()})
	}
}

func (c *maildirCommitter) Commit(uids []string) error {
	return c.finish(c.md.Prepare, c.md.Sync, c.take(uids), uids, c.account)
}

// Seal closes the batch off when the maildir can (deliver.Sealer): its
// fsyncs start now, and finish journals, publishes and records it while
// the next batch is written.
func (c *maildirCommitter) Seal(uids []string) (func() error, bool) {
	sl, ok := c.md.(deliver.Sealer)
	if !ok {
		return now(c.Commit, uids)
	}
	entries, account := c.take(uids), c.account
	batch := sl.Seal()
	return func() error { return c.finish(batch.Prepare, batch.Publish, entries, uids, account) }, true
}

// take returns the journal entries of the batch that the engine still
// vouches for (uids), and starts the next batch's.
func (c *maildirCommitter) take(uids []string) []Entry {
	vouched := make(map[string]bool, len(uids))
	for _, u := range uids {
		vouched[u] = true
	}
	var entries []Entry
	for _, e := range c.keys {
		if vouched[e.UID] {
			entries = append(entries, e)
		}
	}
	c.keys = c.keys[:0]
	return entries
}

// finish is a maildir batch's commit: stage (prepare), journal, publish,
// record, drop the journal.
func (c *maildirCommitter) finish(prepare, publish func() error, entries []Entry, uids []string, account string) error {
	c.l.commit.Lock()
	defer c.l.commit.Unlock()
	if err := prepare(); err != nil {
		return &TargetError{err}
	}
	var j *journal
	if c.journaled() && len(entries) > 0 {
		var err error
		j, err = c.l.createJournal(c.uids.Path(), Head{Kind: KindMaildir, Pid: os.Getpid(), Account: account, Target: c.md.Path()}, false)
		for i := 0; err == nil && i < len(entries); i++ {
			err = j.addBuffered(entries[i])
		}
		if err == nil {
			err = j.sync()
		}
		if err != nil {
			if j != nil {
				j.remove() // nothing was published
			}
			return fmt.Errorf("journal: %w", err)
		}
	}
	if err := publish(); err != nil {
		if j != nil {
			j.remove() // nothing published is recorded; recovery would check anyway
		}
		return &TargetError{err}
	}
	if err := c.recordAs(account, uids); err != nil {
		if j != nil {
			j.close() // the journal stays: the next run records the UIDs
		}
		return err
	}
	if j != nil {
		if err := j.remove(); err != nil {
			c.log.Warn("could not remove the delivery journal; the next run will replay it harmlessly", "err", err)
		}
	}
	return nil
}

func (c *maildirCommitter) Close() {}

// mboxCommitter journals each batch from before its first byte: a run
// killed before the batch is recorded leaves a journal from which the next
// run cuts the batch back off the mbox (recoverMbox).
type mboxCommitter struct {
	base
	mb *deliver.Mbox
	j  *journal // of the open batch
}

// onBatch runs when a batch has the mbox's locks, before it writes.
func (c *mboxCommitter) onBatch(start int64) error {
	c.drop() // a batch whose record failed left one
	j, err := c.l.createJournal(c.uids.Path(), Head{Kind: KindMbox, Pid: os.Getpid(), Account: c.account, Target: c.mb.Path(), Start: start}, true)
	if err != nil {
		return fmt.Errorf("mbox journal: %w", err)
	}
	c.j = j
	return nil
}

func (c *mboxCommitter) Delivered(tx deliver.Tx, uid string) {
	a, ok := tx.(deliver.Appended)
	if !ok || c.j == nil {
		return
	}
	if err := c.j.add(Entry{End: a.End(), UID: uid}); err != nil {
		// The batch's start is journaled: recovery still cuts the batch
		// off, only less precisely (see deliver.RecoverMbox).
		c.log.Warn("mbox journal: " + err.Error())
	}
}

// Seal commits at once: an mbox batch holds the mbox's locks until its
// fsync, so the next batch could not write meanwhile anyway.
func (c *mboxCommitter) Seal(uids []string) (func() error, bool) { return now(c.Commit, uids) }

func (c *mboxCommitter) Commit(uids []string) error {
	c.l.commit.Lock()
	defer c.l.commit.Unlock()
	if err := c.mb.Sync(); err != nil {
		// Not durable, and truncated off the mbox by Sync itself.
		c.drop()
		return &TargetError{err}
	}
	if err := c.record(uids); err != nil {
		c.Close() // the next run cuts the unrecorded batch off
		return err
	}
	c.drop()
	return nil
}

// drop removes the journal of a batch that is recorded (or failed and was
// truncated by the mbox itself).
func (c *mboxCommitter) drop() {
	if c.j == nil {
		return
	}
	if err := c.j.remove(); err != nil {
		c.log.Warn("could not remove the mbox journal; the next run will check it harmlessly", "err", err)
	}
	c.j = nil
}

func (c *mboxCommitter) Close() {
	if c.j != nil {
		c.j.close()
		c.j = nil
	}
}

// syncCommitter: a group-committing target without a journal of its own.
type syncCommitter struct {
	base
	b deliver.Batcher
}

func (c *syncCommitter) Delivered(deliver.Tx, string) {}

func (c *syncCommitter) Seal(uids []string) (func() error, bool) { return now(c.Commit, uids) }

func (c *syncCommitter) Commit(uids []string) error {
	c.l.commit.Lock()
	defer c.l.commit.Unlock()
	if err := c.b.Sync(); err != nil {
		return &TargetError{err}
	}
	return c.record(uids)
}

func (c *syncCommitter) Close() {}

// deliveredCommitter: a target that has a message for good once its Commit
// returns. Its UID is journaled at once, so that a run killed before the
// batch is recorded does not deliver it again (recoverDelivered).
type deliveredCommitter struct {
	base
	j *journal
}

func (c *deliveredCommitter) Delivered(_ deliver.Tx, uid string) {
	if uid == "" || !c.journaled() {
		return
	}
	if c.j == nil {
		j, err := c.l.createJournal(c.uids.Path(), Head{Kind: KindDelivered, Pid: os.Getpid(), Account: c.account}, false)
		if err != nil {
			c.log.Warn("delivered journal: " + err.Error())
			return
		}
		c.j = j
	}
	if err := c.j.add(Entry{UID: uid}); err != nil {
		c.log.Warn("delivered journal: " + err.Error())
	}
}

func (c *deliveredCommitter) Seal(uids []string) (func() error, bool) { return now(c.Commit, uids) }

func (c *deliveredCommitter) Commit(uids []string) error {
	c.l.commit.Lock()
	defer c.l.commit.Unlock()
	if err := c.record(uids); err != nil {
		c.Close() // the next run records what was delivered
		return err
	}
	if c.j != nil {
		c.j.remove()
		c.j = nil
	}
	return nil
}

func (c *deliveredCommitter) Close() {
	if c.j != nil {
		c.j.close()
		c.j = nil
	}
}

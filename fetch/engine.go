package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/gofetchmail/gofetchmail/deliver"
	"github.com/gofetchmail/gofetchmail/ledger"
	"github.com/gofetchmail/gofetchmail/mailbox"
)

// The engine: one poll of one mailbox, whatever its protocol.
//
//	list      the mailbox's messages: fresh (new to us) and old (delivered
//	          by an earlier poll, still there)
//	select    old ones marked for deletion (unless keep; flush deletes
//	          them even with keep); limit, limitflush and the
//	          oversized-messages warning; fetchlimit (one counter for
//	          the whole poll) and, for POP3, expunge N
//	open      the delivery target and its committer (ledger.Open), once
//	retrieve  each message streamed into a delivery transaction
//	commit    every batch: made durable, published and recorded
//	          (session.record), and only then marked for deletion
//	settle    DELE (POP3, after the retrieval) or UID STORE \Deleted and
//	          EXPUNGE (IMAP, after each batch)
//	finish    QUIT or LOGOUT, and the expunged messages' UIDs forgotten
//
// A message is marked for deletion only once its batch is recorded, so a
// DELE or STORE is never sent for a message that is not durably delivered
// and recorded. A poll that breaks off records what it delivered
// (salvage) and deletes nothing more.
func (s *session) poll(ctx context.Context, box mailbox.Mailbox) (err error) {
	u := s.job.User
	s.box = box
	fresh, old, proceed, err := box.List(ctx)
	if err != nil {
		return err
	}
	s.res.Waiting += len(fresh)
	if !proceed {
		return nil
	}
	// Messages already delivered in an earlier run (recorded in the
	// idfile) but still on the server: that run was stopped before its
	// QUIT or EXPUNGE, or the entry uses keep. Without keep they are
	// deleted, never delivered twice; flush deletes them even with keep,
	// as fetchmail's flush does. With keep, keepdays deletes those past
	// their days (keepdays.go) and keeps the others.
	if !u.Keep || u.Flush {
		s.markDelete(old...)
	} else if old, fresh, err = s.agedOut(old, fresh); err != nil {
		return err
	} else if err := box.KeepOld(ctx, old); err != nil {
		return err
	}
	want, big := s.bySize(fresh)
	s.warnOversized(ctx, big)
	oversized := len(big)
	if u.Limitflush {
		oversized = 0 // flushed: deleted, not skipped
	}
	want = s.capBatch(want) // fetchlimit, expunge N
	if len(want) > 0 {
		if err := s.openTarget(); err != nil {
			return err
		}
		defer func() {
			if err != nil {
				s.salvage()
			}
		}()
		s.startProgress(want)
		if err := box.Retrieve(ctx, want); err != nil {
			return err
		}
		if err := s.drainCommits(ctx); err != nil {
			return err
		}
	}
	if err := s.settle(ctx, true); err != nil {
		return err
	}
	if s.res.Delivered == 0 && s.res.Skipped > oversized && s.res.Status == 0 {
		s.res.Status = StatusSMTP
	}
	return box.End(ctx)
}

// bySize applies limit: an oversized message stays on the server (and is
// counted skipped), or with limitflush is marked for deletion. It returns
// the messages to retrieve and the oversized ones (for the warning).
func (s *session) bySize(fresh []message) (want, big []message) {
	log := s.opts.logger()
	u := s.job.User
	for _, m := range fresh {
		if u.Limit <= 0 || m.Size <= int64(u.Limit) {
			want = append(want, m)
			continue
		}
		big = append(big, m)
		if u.Limitflush {
			log.Info(fmt.Sprintf("skipping message %s:%d (%d octets) (oversized) flushed", s.label, m.ID(), m.Size))
			s.markDelete(m)
			continue
		}
		log.Info(fmt.Sprintf("skipping message %s:%d (%d octets) (oversized)", s.label, m.ID(), m.Size))
		s.res.Skipped++
	}
	return want, big
}

// markDelete marks messages for deletion on the server (settle sends
// it) and their idfile entries for forgetting once it is final.
func (s *session) markDelete(ms ...message) {
	s.toDelete = append(s.toDelete, ms...)
}

// settle hands the mailbox the messages marked for deletion since the
// last settle (mailbox.Mailbox.Settle).
func (s *session) settle(ctx context.Context, final bool) error {
	if err := s.box.Settle(ctx, s.toDelete, final); err != nil {
		return err
	}
	s.toDelete = s.toDelete[:0]
	return nil
}

// openTarget opens the job's delivery target and its committer, unless
// the session has them open already (an IMAP poll keeps one target for
// all its folders). closeTarget closes them.
func (s *session) openTarget() error {
	if s.dlv != nil {
		return nil
	}
	dlv, err := openTarget(s.job, s.opts)
	if err != nil {
		return &Error{Poll: s.label, Status: StatusSMTP, Err: err}
	}
	s.openCommitter(dlv)
	if s.buf == nil {
		s.buf = make([]byte, 256*1024)
	}
	return nil
}

// closeTarget closes the deliverer, if one was opened, and then its
// committer (which leaves the journal of a batch not recorded).
func (s *session) closeTarget() {
	if s.inflight != nil {
		s.salvage() // not reached by a poll, which settles or salvages its batches
	}
	if s.dlv != nil {
		s.dlv.Close()
		s.dlv = nil
	}
	if s.commit != nil {
		s.commit.Close()
		s.commit = nil
	}
}

// startProgress starts the progress report of the messages to retrieve.
func (s *session) startProgress(want []message) {
	s.prog = Progress{Poll: s.label, Total: len(want)}
	for _, m := range want {
		s.prog.TotalBytes += m.Size
	}
	s.progStart = time.Now()
	s.idx = 0
}

// progress reports one more message handled (n octets read of it).
func (s *session) progress(n int64) {
	if s.opts.Progress == nil {
		return
	}
	s.prog.Done++
	s.prog.Bytes += n
	s.prog.Elapsed = time.Since(s.progStart)
	s.opts.Progress(s.prog)
}

// receive delivers the message m, read from r, up to its commit (which
// the mailbox does when the protocol says the message is whole): see
// stageOne.
func (s *session) receive(ctx context.Context, m message, r io.Reader) (*staged, error) {
	s.idx++
	return s.stageOne(ctx, m, r, s.box.Protocol(), s.idx, s.prog.Total)
}

// failed deals with a message whose delivery (or retrieval) failed with
// err: a delivery failure is judged by deliveryVerdict (undelivered);
// anything else ends the poll.
func (s *session) failed(ctx context.Context, m message, err error) error {
	var de *deliveryError
	if !errors.As(err, &de) {
		return err
	}
	stays, stop := s.undelivered(ctx, m, err, de)
	if stays {
		s.box.LeftBehind(m)
	}
	return stop
}

// undelivered deals with a message whose delivery failed (de, inside err)
// by deliveryVerdict: the poll stops (stop), or, under set no softbounce, a
// permanently refused message is marked for deletion and bounced, as
// fetchmail does; otherwise it stays on the server (stays, counted as
// skipped) for the next poll.
func (s *session) undelivered(ctx context.Context, m message, err error, de *deliveryError) (stays bool, stop error) {
	log := s.opts.logger()
	switch deliveryVerdict(s.job, de.err) {
	case verdictStopPoll:
		return false, &Error{Poll: s.label, Status: StatusSMTP, Err: err}
	case verdictDelete:
		log.Error(fmt.Sprintf("message %s:%d refused permanently, deleted (no softbounce): %v", s.label, m.ID(), de.err))
		s.markDelete(m)
		s.bounce(ctx, s.last, de.err)
		return false, nil
	}
	log.Error(fmt.Sprintf("message %s:%d not delivered, left on the server: %v", s.label, m.ID(), de.err))
	s.res.Skipped++
	return true, nil
}

// endBatch ends the batch delivered so far: it is sealed and its commit
// (made durable, published, recorded: ledger.Committer.Seal) runs while
// the next batch streams in, when the target allows; otherwise at once.
// A batch is marked seen (keep) or for deletion only once its commit
// returned: endBatch first waits for the previous batch's, then the
// mailbox settles what it can.
func (s *session) endBatch(ctx context.Context) error {
	recorded, err := s.awaitCommit()
	if err != nil {
		return err
	}
	if len(s.pending) > 0 {
		finish, overlapped := s.commit.Seal(s.pendingUIDs())
		f := &inflight{msgs: slices.Clone(s.pending), done: make(chan error, 1)}
		s.pending = s.pending[:0]
		if overlapped {
			go func() { f.done <- finish() }()
			s.inflight = f
			s.batch.overlapped = true
		} else {
			start := time.Now()
			f.done <- finish()
			s.batch.commitTook = time.Since(start)
			s.inflight = f
			more, err := s.awaitCommit()
			if err != nil {
				return err
			}
			recorded = append(recorded, more...)
		}
	}
	s.batch.started = time.Time{}
	if len(recorded) == 0 && s.inflight != nil {
		return nil // the first batch in flight: settled with it, next time
	}
	return s.settleRecorded(ctx, recorded)
}

// batchPace is what the engine knows about the cost of its commits in one
// session, to size the next batch (batchDue).
type batchPace struct {
	started    time.Time     // the first message of the open batch was handed over
	commitTook time.Duration // the last commit made at once (not overlapped)
	overlapped bool          // the target's commits run beside retrieval
}

// Group commit. A commit costs the target some fsyncs and the idfile one
// more whatever the batch's size, so the batch grows while a commit would
// hold retrieval up: beyond its least size (Options.BatchSize, default
// minBatch) an overlapped batch ends only once the previous commit
// finished, and a batch committed at once (mbox, MDA, SMTP) only once
// retrieving it took commitShare times as long as the last commit (so
// commits take at most about a ninth of the time); never beyond maxBatch
// messages. A batch is what a crash may make the next poll fetch again, not
// what it may lose or deliver twice (the ledger's journals see to that).
const (
	minBatch    = 64
	maxBatch    = 1024
	commitShare = 8
)

// batchDue reports whether the batch delivered so far should end now.
// With Options.BatchSize set, a batch is exactly that many messages (tests
// that count commits rely on it).
func (s *session) batchDue() bool {
	n := len(s.pending)
	if n == 0 {
		return false
	}
	if s.batch.started.IsZero() {
		s.batch.started = time.Now()
	}
	if s.opts.BatchSize > 0 || n >= maxBatch {
		return n >= s.opts.batchSize()
	}
	if n < minBatch {
		return false
	}
	if s.batch.overlapped {
		return s.inflight == nil || s.inflight.ready()
	}
	return time.Since(s.batch.started) >= commitShare*s.batch.commitTook
}

// inflight is a sealed batch whose commit runs in the background.
type inflight struct {
	msgs []message
	done chan error
	err  error
	over bool // done was received into err
}

// ready reports, without waiting, whether the commit has returned.
func (f *inflight) ready() bool {
	if !f.over {
		select {
		case f.err = <-f.done:
			f.over = true
		default:
		}
	}
	return f.over
}

// wait waits for the commit and returns its error.
func (f *inflight) wait() error {
	if !f.over {
		f.err, f.over = <-f.done, true
	}
	return f.err
}

// awaitCommit waits for the commit of the batch in flight, if any, and
// returns its messages, now durable and recorded.
func (s *session) awaitCommit() ([]message, error) {
	f := s.inflight
	if f == nil {
		return nil, nil
	}
	s.inflight = nil
	if err := f.wait(); err != nil {
		return nil, s.commitError(err)
	}
	s.debugRecorded(len(f.msgs))
	return f.msgs, nil
}

// drainCommits waits for the last batch's commit at the end of the
// retrieval and settles it.
func (s *session) drainCommits(ctx context.Context) error {
	recorded, err := s.awaitCommit()
	if err != nil {
		return err
	}
	return s.settleRecorded(ctx, recorded)
}

// settleRecorded marks recorded messages seen (keep) or for deletion and
// lets the mailbox settle what it can now.
func (s *session) settleRecorded(ctx context.Context, recorded []message) error {
	var kept []message
	if s.job.User.Keep {
		kept = recorded
	} else {
		s.markDelete(recorded...)
	}
	if err := s.box.Seen(ctx, kept); err != nil {
		return err
	}
	return s.settle(ctx, false)
}

// salvage runs when a poll breaks off with messages delivered but not yet
// recorded: it waits for the batch in flight and makes the rest durable
// and recorded, so the next poll deletes them instead of delivering them
// again. Nothing is marked for deletion: the session is broken.
func (s *session) salvage() {
	log := s.opts.logger()
	if _, err := s.awaitCommit(); err != nil {
		log.Error("delivered messages could not be recorded; the next poll may deliver them again", "err", err)
	}
	if len(s.pending) == 0 {
		return
	}
	defer func() { s.pending = s.pending[:0] }()
	if err := s.record(); err != nil {
		log.Error("delivered messages could not be recorded; the next poll may deliver them again", "err", err)
	}
}

func (s *session) pendingUIDs() []string {
	var uids []string
	for _, p := range s.pending {
		if p.Entry != "" {
			uids = append(uids, p.Entry)
		}
	}
	return uids
}

// commitError maps a failed commit onto the poll's error: a target that
// could not make the batch durable is a delivery failure (exit 10), an
// idfile or journal that could not be written an I/O error.
func (s *session) commitError(err error) error {
	var te *ledger.TargetError
	if errors.As(err, &te) {
		// Not durable: do not delete. The next poll fetches them again.
		return &Error{Poll: s.label, Status: StatusSMTP, Err: &deliveryError{te.Err}}
	}
	return &Error{Poll: s.label, Status: StatusIOErr, Err: err}
}

// record makes the pending deliveries durable (the target's committer:
// stage, journal, publish) and records their UIDs durably in the idfile.
// Only what record accepted may be deleted on the server.
func (s *session) record() error {
	if err := s.commit.Commit(s.pendingUIDs()); err != nil {
		return s.commitError(err)
	}
	s.debugRecorded(len(s.pending))
	return nil
}

// openCommitter makes dlv the session's target, with the committer the
// ledger chooses for it.
func (s *session) openCommitter(dlv deliver.Deliverer) {
	s.dlv = dlv
	s.commit = s.opts.theLedger().Open(dlv, s.uids, s.key, s.opts.logger())
}

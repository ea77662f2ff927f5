package deliver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofetchmail/gofetchmail/statefile"
)

// MboxOptions tune an Mbox. The zero value (or nil) gives the defaults.
type MboxOptions struct {
	// LockTimeout bounds the wait for both locks in Begin (default 60s).
	LockTimeout time.Duration
	// StaleLock is the age after which a dotlock is removed as stale
	// (default 5 minutes).
	StaleLock time.Duration
	// NoDotlock skips the PATH.lock file, for mail spools whose directory
	// the user cannot write; the fcntl lock is still taken.
	NoDotlock bool
	// Now supplies the From-line date (default time.Now; the date is
	// printed in the location of the returned time, as procmail prints
	// local time).
	Now func() time.Time
}

// Mbox appends messages to an mboxrd file. It is a Batcher: the first Begin
// of a batch takes the in-process turn, the dotlock PATH.lock and an fcntl
// write lock and records the file size; the locks are kept across the
// batch, so further messages cost no locking and no fsync. Commit ends the
// message with a blank line and writes it out; Sync fsyncs the file once
// and releases the locks. Abort truncates the file back to the start of its
// message. A failed Sync truncates the file back to the start of the batch,
// so none of the batch's messages stays behind. One transaction runs at a
// time; Begin waits for the previous one to finish. Close syncs a batch left
// open.
type Mbox struct {
	path string
	opts MboxOptions
	turn chan struct{} // one transaction (or Sync) at a time within the process
	b    *mboxBatch    // the open batch; touched only by the holder of turn
	// onBatch, if set, runs when a batch has its locks, before it writes.
	onBatch func(start int64) error
	// fsync is (*os.File).Sync; tests replace it to make Sync fail.
	fsync func(*os.File) error
	// follow: path was a symbolic link (made by the user or root) when
	// NewMbox saw it; otherwise a link found there later is not followed.
	follow bool
}

// mboxBatch is the locked state a batch keeps between transactions.
type mboxBatch struct {
	f       *os.File
	w       offsetWriter // writes to f, counting where they end
	dot     bool         // holds PATH.lock
	locked  bool         // holds the fcntl lock
	start   int64        // file size before the batch
	end     int64        // end of the last committed message
	touched time.Time    // when PATH.lock was last created or refreshed
	err     error        // a failed Abort left the batch in an unknown state
}

// NewMbox prepares delivery into the mbox file at path, creating it with
// mode 0600 when missing. The directory must exist.
func NewMbox(path string, opts *MboxOptions) (*Mbox, error) {
	m := &Mbox{path: path, turn: make(chan struct{}, 1), fsync: (*os.File).Sync}
	if opts != nil {
		m.opts = *opts
	}
	if m.opts.LockTimeout <= 0 {
		m.opts.LockTimeout = 60 * time.Second
	}
	if m.opts.StaleLock <= 0 {
		m.opts.StaleLock = 5 * time.Minute
	}
	if m.opts.Now == nil {
		m.opts.Now = time.Now
	}
	if err := createDurably(path); err != nil {
		return nil, fmt.Errorf("mbox %s: %w", path, err)
	}
	// A link at path is followed only if the user (or root) made it, and
	// only if it was there from the start: a link that replaces the mbox
	// later (another user of a group-writable spool) is refused by lock.
	lfi, err := os.Lstat(path)
	if err != nil {
		return nil, fmt.Errorf("mbox %s: %w", path, err)
	}
	if err := statefile.CheckLink(path, lfi); err != nil {
		return nil, fmt.Errorf("mbox %w; not delivering through it", err)
	}
	m.follow = lfi.Mode()&fs.ModeSymlink != 0
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("mbox %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("mbox %s: not a regular file", path)
	}
	return m, nil
}

// OnBatch sets fn to run each time a batch has taken the locks and before
// it writes anything, with the file's size then; an error from fn fails
// that Begin. The fetch engine journals the batch there, so that a run
// killed before the batch's messages were recorded as fetched can cut
// them off again (RecoverMbox). Call it before the first Begin.
func (m *Mbox) OnBatch(fn func(start int64) error) { m.onBatch = fn }

// Path returns the mbox file's path.
func (m *Mbox) Path() string { return m.path }

// String returns "mbox PATH".
func (m *Mbox) String() string { return "mbox " + m.path }

// Close makes a batch left open durable, as Sync does, and releases its
// locks. It must not be called while a transaction is open.
func (m *Mbox) Close() error { return m.Sync() }

// Begin locks the mbox (unless the batch holds the locks already) and
// writes the From line of a new message.
func (m *Mbox) Begin(ctx context.Context, env Envelope) (Tx, error) {
	deadline := time.Now().Add(m.opts.LockTimeout)
	lctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	select {
	case m.turn <- struct{}{}:
	case <-lctx.Done():
		return nil, fmt.Errorf("mbox %s: waiting for the previous delivery: %w", m.path, lctx.Err())
	}
	if m.b == nil {
		b, err := m.lock(ctx, deadline)
		if err != nil {
			<-m.turn
			return nil, err
		}
		if m.onBatch != nil {
			if err := m.onBatch(b.start); err != nil {
				b.unlock(m)
				<-m.turn
				return nil, fmt.Errorf("mbox %s: %w", m.path, err)
			}
		}
		m.b = b
	} else if m.b.err != nil {
		err := m.b.err
		<-m.turn
		return nil, fmt.Errorf("mbox %s: %w", m.path, err)
	} else {
		m.b.refresh(m)
	}
	tx := &mboxTx{m: m, f: m.b.f, size: m.b.end}
	tx.w = getWriter(&m.b.w)
	tx.q = newFromQuoter(tx.w)
	if err := tx.start(env); err != nil {
		tx.Abort()
		return nil, err
	}
	return tx, nil
}

// Sync makes every message committed since the previous Sync durable with
// one fsync and releases the locks. When the fsync fails, the file is
// truncated back to its size before the batch and Sync reports the error:
// none of the batch's messages counts as delivered.
func (m *Mbox) Sync() error {
	m.turn <- struct{}{}
	defer func() { <-m.turn }()
	b := m.b
	if b == nil {
		return nil
	}
	m.b = nil
	err := b.err
	if err == nil && b.end > b.start {
		if serr := m.fsync(b.f); serr != nil {
			err = fmt.Errorf("fsync: %w", serr)
		}
	}
	if err != nil {
		if terr := b.f.Truncate(b.start); terr != nil {
			err = fmt.Errorf("%w (and truncating back to %d: %w)", err, b.start, terr)
		} else {
			b.f.Sync() // best effort: the batch is already reported failed
		}
		b.unlock(m)
		return fmt.Errorf("mbox %s: %w", m.path, err)
	}
	return b.unlock(m)
}

// lock takes the dotlock and the fcntl lock and records the size.
func (m *Mbox) lock(ctx context.Context, deadline time.Time) (*mboxBatch, error) {
	b := &mboxBatch{}
	if !m.opts.NoDotlock {
		err := retryLock(ctx, deadline, "mbox "+m.path+".lock", func() error {
			return dotlock(m.path+".lock", m.opts.StaleLock)
		})
		if err != nil {
			return nil, fmt.Errorf("mbox %s: %w", m.path, err)
		}
		b.dot, b.touched = true, time.Now()
	}
	fail := func(err error) (*mboxBatch, error) {
		b.unlock(m)
		return nil, fmt.Errorf("mbox %s: %w", m.path, err)
	}
	if err := createDurably(m.path); err != nil {
		return fail(err)
	}
	flags := os.O_RDWR
	if !m.follow {
		flags |= statefile.NoFollow
	}
	f, err := openFile(m.path, flags, 0)
	if statefile.IsLinkError(err) {
		return fail(errors.New("it became a symbolic link since it was opened; not delivering through it"))
	}
	if err != nil {
		return fail(err)
	}
	b.f = f
	if err := retryLock(ctx, deadline, "mbox "+m.path, func() error { return fcntlLock(f) }); err != nil {
		return fail(err)
	}
	b.locked = true
	if b.start, err = f.Seek(0, io.SeekEnd); err != nil {
		return fail(err)
	}
	b.end = b.start
	b.w = offsetWriter{f: f, off: b.start}
	return b, nil
}

// refresh renews the dotlock's mtime when half its stale age has passed, so
// that a long batch is not taken for a stale lock by other programs.
func (b *mboxBatch) refresh(m *Mbox) {
	if b.dot && time.Since(b.touched) > m.opts.StaleLock/2 {
		now := time.Now()
		if os.Chtimes(m.path+".lock", now, now) == nil {
			b.touched = now
		}
	}
}

// unlock releases, in reverse order, whatever lock b holds.
func (b *mboxBatch) unlock(m *Mbox) error {
	var err error
	if b.f != nil {
		if b.locked {
			err = fcntlUnlock(b.f)
			b.locked = false
		}
		if cerr := b.f.Close(); err == nil && cerr != nil {
			err = cerr
		}
		b.f = nil
	}
	if b.dot {
		if rerr := os.Remove(m.path + ".lock"); err == nil && rerr != nil {
			err = rerr
		}
		b.dot = false
	}
	if err != nil {
		return fmt.Errorf("mbox %s: unlock: %w", m.path, err)
	}
	return nil
}

// fromLine returns the mbox separator line for sender at time t:
// "From SENDER asctime\n". An empty or "<>" sender becomes MAILER-DAEMON;
// blanks in the sender become '_' so the line stays parseable.
func fromLine(sender string, t time.Time) string {
	sender = strings.TrimSuffix(strings.TrimPrefix(sender, "<"), ">")
	if sender == "" {
		sender = "MAILER-DAEMON"
	}
	sender = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return '_'
		}
		return r
	}, sender)
	return "From " + sender + " " + t.Format(time.ANSIC) + "\n"
}

// mboxTx is one message being appended. It holds Mbox.turn until it ends.
type mboxTx struct {
	m    *Mbox
	f    *os.File
	size int64 // file size before this message
	end  int64 // file size after it, once committed
	w    *bufio.Writer
	q    *fromQuoter
	txState
}

// start makes sure the new From line follows a blank line and writes it.
func (tx *mboxTx) start(env Envelope) error {
	sep := ""
	// A message this batch committed last ends the file with a blank line
	// (finish); only the file as it was found needs reading.
	if b := tx.m.b; tx.size > 0 && tx.size == b.start {
		var tail [2]byte
		n, _ := tx.f.ReadAt(tail[:], max(tx.size-2, 0))
		switch {
		case n >= 1 && tail[n-1] != '\n':
			sep = "\n\n"
		case n == 2 && tail[0] != '\n':
			sep = "\n"
		}
	}
	if _, err := tx.w.WriteString(sep + fromLine(env.From, tx.m.opts.Now())); err != nil {
		return fmt.Errorf("mbox %s: write: %w", tx.m.path, err)
	}
	return nil
}

// End returns the file offset just past the message, once committed.
func (tx *mboxTx) End() int64 { return tx.end }

// Write appends message bytes with mboxrd quoting.
func (tx *mboxTx) Write(p []byte) (int, error) {
	return tx.write(tx.q, p, func(err error) error { return fmt.Errorf("mbox %s: write: %w", tx.m.path, err) })
}

// Commit ends the message with a blank line and writes it to the file; the
// batch's Sync makes it durable. On error the file is truncated back as by
// Abort.
func (tx *mboxTx) Commit() error {
	if tx.done {
		return errTxDone
	}
	err := tx.err
	var end int64
	if err == nil {
		end, err = tx.finish()
	}
	if err != nil {
		if aerr := tx.Abort(); aerr != nil {
			return fmt.Errorf("%w (and %w)", err, aerr)
		}
		return err
	}
	tx.done = true
	tx.m.b.end, tx.end = end, end
	tx.release()
	return nil
}

// finish writes the rest of the message and returns the new end of file.
func (tx *mboxTx) finish() (int64, error) {
	if err := tx.q.Flush(); err != nil {
		return 0, fmt.Errorf("mbox %s: write: %w", tx.m.path, err)
	}
	end := "\n"
	if tx.q.n > 0 && tx.q.last != '\n' {
		end = "\n\n"
	}
	if _, err := tx.w.WriteString(end); err != nil {
		return 0, fmt.Errorf("mbox %s: write: %w", tx.m.path, err)
	}
	if err := tx.w.Flush(); err != nil {
		return 0, fmt.Errorf("mbox %s: write: %w", tx.m.path, err)
	}
	return tx.m.b.w.off, nil
}

// offsetWriter writes to an mbox file opened at its end and keeps the
// offset its writes reached, so that a message's end costs no lseek.
type offsetWriter struct {
	f   *os.File
	off int64
}

func (w *offsetWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	return n, err
}

// Abort truncates the file back to its size before Begin and fsyncs it.
// When nothing else of the batch is committed, it releases the locks. It
// does nothing after a successful Commit.
func (tx *mboxTx) Abort() error {
	if tx.done {
		return nil
	}
	tx.done = true
	m, b := tx.m, tx.m.b
	var err error
	if terr := tx.f.Truncate(tx.size); terr != nil {
		err = fmt.Errorf("mbox %s: truncate back to %d: %w", m.path, tx.size, terr)
	} else if _, serr := tx.f.Seek(tx.size, io.SeekStart); serr != nil {
		err = fmt.Errorf("mbox %s: %w", m.path, serr)
	} else {
		b.w.off = tx.size
		if serr := tx.f.Sync(); serr != nil {
			err = fmt.Errorf("mbox %s: fsync: %w", m.path, serr)
		}
	}
	if err != nil {
		b.err = err // Sync must not report the batch durable
	}
	if err == nil && b.end == b.start {
		m.b = nil
		err = b.unlock(m)
	}
	tx.release()
	return err
}

// release returns the write buffer and the turn.
func (tx *mboxTx) release() {
	putWriter(tx.w)
	tx.w, tx.q = nil, nil
	<-tx.m.turn
}

// createDurably creates an empty file at path with mode 0600 unless it
// exists, and then fsyncs the directory so that the new name survives a
// crash together with the first message written to it.
func createDurably(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	f.Close()
	return syncDir(filepath.Dir(path))
}

// syncDir fsyncs the directory dir.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}

var _ Batcher = (*Mbox)(nil)

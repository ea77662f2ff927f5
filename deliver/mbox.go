package deliver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
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

// Mbox appends messages to an mboxrd file. Begin takes the in-process lock,
// the dotlock PATH.lock and an fcntl write lock, and records the file size;
// Commit ends the message with a blank line, fsyncs and unlocks; Abort
// truncates the file back to the recorded size, fsyncs and unlocks. One
// transaction runs at a time; Begin waits for the previous one to finish.
type Mbox struct {
	path string
	opts MboxOptions
	turn chan struct{} // one transaction at a time within the process
}

// NewMbox prepares delivery into the mbox file at path, creating it with
// mode 0600 when missing. The directory must exist.
func NewMbox(path string, opts *MboxOptions) (*Mbox, error) {
	m := &Mbox{path: path, turn: make(chan struct{}, 1)}
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
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("mbox %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("mbox %s: not a regular file", path)
	}
	return m, nil
}

// String returns "mbox PATH".
func (m *Mbox) String() string { return "mbox " + m.path }

// Close releases nothing: files are opened per transaction.
func (m *Mbox) Close() error { return nil }

// Begin locks the mbox and writes the From line of a new message.
func (m *Mbox) Begin(ctx context.Context, env Envelope) (Tx, error) {
	deadline := time.Now().Add(m.opts.LockTimeout)
	lctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	select {
	case m.turn <- struct{}{}:
	case <-lctx.Done():
		return nil, fmt.Errorf("mbox %s: waiting for the previous delivery: %w", m.path, lctx.Err())
	}
	tx := &mboxTx{m: m, hasTurn: true}
	if err := tx.lock(ctx, deadline); err != nil {
		tx.unlock()
		return nil, err
	}
	tx.w = getWriter(tx.f)
	tx.q = newFromQuoter(tx.w)
	if err := tx.start(env); err != nil {
		tx.Abort()
		return nil, err
	}
	return tx, nil
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

// mboxTx is one message being appended.
type mboxTx struct {
	m      *Mbox
	f      *os.File
	dot    bool  // holds PATH.lock
	locked bool  // holds the fcntl lock
	size   int64 // file size before this message
	w      *bufio.Writer
	q      *fromQuoter
	err    error
	done   bool
	// hasTurn is true while the transaction holds Mbox.turn.
	hasTurn bool
}

// lock takes the dotlock and the fcntl lock and records the size.
func (tx *mboxTx) lock(ctx context.Context, deadline time.Time) error {
	m := tx.m
	if !m.opts.NoDotlock {
		err := retryLock(ctx, deadline, "mbox "+m.path+".lock", func() error {
			return dotlock(m.path+".lock", m.opts.StaleLock)
		})
		if err != nil {
			return fmt.Errorf("mbox %s: %w", m.path, err)
		}
		tx.dot = true
	}
	if err := createDurably(m.path); err != nil {
		return fmt.Errorf("mbox %s: %w", m.path, err)
	}
	f, err := os.OpenFile(m.path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("mbox %s: %w", m.path, err)
	}
	tx.f = f
	err = retryLock(ctx, deadline, "mbox "+m.path, func() error { return fcntlLock(f) })
	if err != nil {
		return fmt.Errorf("mbox %s: %w", m.path, err)
	}
	tx.locked = true
	if tx.size, err = f.Seek(0, io.SeekEnd); err != nil {
		return fmt.Errorf("mbox %s: %w", m.path, err)
	}
	return nil
}

// start makes sure the new From line follows a blank line and writes it.
func (tx *mboxTx) start(env Envelope) error {
	sep := ""
	if tx.size > 0 {
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

// Write appends message bytes with mboxrd quoting.
func (tx *mboxTx) Write(p []byte) (int, error) {
	if tx.done {
		return 0, errTxDone
	}
	if tx.err != nil {
		return 0, tx.err
	}
	n, err := tx.q.Write(p)
	if err != nil {
		tx.err = fmt.Errorf("mbox %s: write: %w", tx.m.path, err)
		return n, tx.err
	}
	return n, nil
}

// Commit ends the message with a blank line, fsyncs and unlocks. On error
// the file is truncated back as by Abort.
func (tx *mboxTx) Commit() error {
	if tx.done {
		return errTxDone
	}
	err := tx.err
	if err == nil {
		err = tx.finish()
	}
	if err != nil {
		if aerr := tx.Abort(); aerr != nil {
			return fmt.Errorf("%w (and %w)", err, aerr)
		}
		return err
	}
	tx.done = true
	return tx.unlock()
}

func (tx *mboxTx) finish() error {
	if err := tx.q.Flush(); err != nil {
		return fmt.Errorf("mbox %s: write: %w", tx.m.path, err)
	}
	end := "\n"
	if tx.q.n > 0 && tx.q.last != '\n' {
		end = "\n\n"
	}
	if _, err := tx.w.WriteString(end); err != nil {
		return fmt.Errorf("mbox %s: write: %w", tx.m.path, err)
	}
	if err := tx.w.Flush(); err != nil {
		return fmt.Errorf("mbox %s: write: %w", tx.m.path, err)
	}
	if err := tx.f.Sync(); err != nil {
		return fmt.Errorf("mbox %s: fsync: %w", tx.m.path, err)
	}
	return nil
}

// Abort truncates the file to its size before Begin, fsyncs and unlocks.
// It does nothing after a successful Commit.
func (tx *mboxTx) Abort() error {
	if tx.done {
		return nil
	}
	tx.done = true
	var err error
	if tx.f != nil && tx.locked {
		if terr := tx.f.Truncate(tx.size); terr != nil {
			err = fmt.Errorf("mbox %s: truncate back to %d: %w", tx.m.path, tx.size, terr)
		} else if serr := tx.f.Sync(); serr != nil {
			err = fmt.Errorf("mbox %s: fsync: %w", tx.m.path, serr)
		}
	}
	if uerr := tx.unlock(); err == nil {
		err = uerr
	}
	return err
}

// unlock releases, in reverse order, whatever lock is held.
func (tx *mboxTx) unlock() error {
	var err error
	putWriter(tx.w)
	tx.w, tx.q = nil, nil
	if tx.f != nil {
		if tx.locked {
			err = fcntlUnlock(tx.f)
			tx.locked = false
		}
		if cerr := tx.f.Close(); err == nil && cerr != nil {
			err = cerr
		}
		tx.f = nil
	}
	if tx.dot {
		if rerr := os.Remove(tx.m.path + ".lock"); err == nil && rerr != nil {
			err = rerr
		}
		tx.dot = false
	}
	if tx.hasTurn {
		tx.hasTurn = false
		<-tx.m.turn
	}
	if err != nil {
		return fmt.Errorf("mbox %s: unlock: %w", tx.m.path, err)
	}
	return nil
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

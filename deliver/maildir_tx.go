package deliver

import (
	"bufio"
	"errors"
	"fmt"
	"os"
)

// maildirTx is one message being written into tmp/.
type maildirTx struct {
	m      *Maildir
	key    string
	f      *os.File
	w      *bufio.Writer
	n      int64      // bytes written
	synced chan error // batch mode: result of the background fsync
	seq    uint64     // the Maildir's Begin count when the file was created
	txState
}

// Key is the message's unique file name, the same in tmp/ and new/.
func (tx *maildirTx) Key() string { return tx.key }

func (tx *maildirTx) tmpPath() string { return tx.m.path("tmp", tx.key) }
func (tx *maildirTx) newPath() string { return tx.m.path("new", tx.key) }

// Write buffers message bytes into the tmp file.
func (tx *maildirTx) Write(p []byte) (int, error) {
	n, err := tx.write(tx.w, p, func(err error) error {
		return fmt.Errorf("maildir %s: write %s: %w", tx.m.dir, tx.tmpPath(), err)
	})
	tx.n += int64(n)
	return n, err
}

// Commit flushes the message. Without batching it also fsyncs the file,
// renames it into new/ and fsyncs new/; with batching those steps happen in
// the background and in Maildir.Sync.
func (tx *maildirTx) Commit() error {
	if tx.done {
		return errTxDone
	}
	if tx.err != nil {
		tx.Abort()
		return tx.err
	}
	if err := tx.w.Flush(); err != nil {
		tx.err = fmt.Errorf("maildir %s: write %s: %w", tx.m.dir, tx.tmpPath(), err)
		tx.Abort()
		return tx.err
	}
	putWriter(tx.w)
	tx.w = nil
	if !tx.m.opts.NoBatch {
		tx.done = true
		tx.m.enqueue(tx)
		return nil
	}
	if err := tx.syncClose(); err != nil {
		tx.done = true
		os.Remove(tx.tmpPath())
		return err
	}
	tx.done = true
	if err := renameFile(tx.tmpPath(), tx.newPath()); err != nil {
		os.Remove(tx.tmpPath())
		return fmt.Errorf("maildir %s: rename into new/: %w", tx.m.dir, err)
	}
	if err := tx.m.syncDir("new"); err != nil {
		// The file is in new/ but perhaps not durably: report failure so
		// the message stays on the server (a duplicate at worst).
		return err
	}
	return nil
}

// syncClose fsyncs and closes the tmp file.
func (tx *maildirTx) syncClose() error {
	err := tx.f.Sync()
	if cerr := tx.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("maildir %s: fsync %s: %w", tx.m.dir, tx.tmpPath(), err)
	}
	return nil
}

// Abort closes and removes the tmp file. It does nothing after a Commit.
func (tx *maildirTx) Abort() error {
	if tx.done {
		return nil
	}
	tx.done = true
	putWriter(tx.w)
	tx.w = nil
	tx.f.Close()
	if err := os.Remove(tx.tmpPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("maildir %s: abort: %w", tx.m.dir, err)
	}
	return nil
}

package fetch

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gofetchmail/gofetchmail/statefile"
)

// A batch journal is a file beside the idfile describing a batch in
// progress, as JSON lines: a head naming the process and the account,
// then one line per message. It is appended to without fsync (a kill
// loses no written data), removed once the batch's UIDs are recorded, and
// read by the next run when its process died before that (or, within a
// daemon, when its session failed): the mbox journal (mbox_journal.go)
// and the delivered journal (delivered_journal.go) are two.
type batchJournal struct {
	path string
	f    *os.File
	enc  *json.Encoder
}

// liveJournals are the batch journals of this process's open batches,
// which recovery must leave alone: their pid is alive, but so is the pid
// of a batch this process left unrecorded, which recovery must check.
var liveJournals = struct {
	sync.Mutex
	paths map[string]bool
}{paths: map[string]bool{}}

func setLiveJournal(path string, live bool) {
	liveJournals.Lock()
	defer liveJournals.Unlock()
	if live {
		liveJournals.paths[path] = true
	} else {
		delete(liveJournals.paths, path)
	}
}

func isLiveJournal(path string) bool {
	liveJournals.Lock()
	defer liveJournals.Unlock()
	return liveJournals.paths[path]
}

// createBatchJournal creates a new journal named prefix, a dash and random
// characters (statefile.CreateTemp: no name another user could have
// planted a file or a link at), with its head. With durable, the head is
// fsync'd with its directory before it returns (the batch it describes may
// then write).
func createBatchJournal(prefix string, head any, durable bool) (*batchJournal, error) {
	f, err := statefile.CreateTemp(filepath.Dir(prefix), filepath.Base(prefix)+"-*")
	if err != nil {
		return nil, err
	}
	// Recovery in this process leaves it alone from now on; before its
	// head is written, a journal is too young for recovery to take anyway.
	path := f.Name()
	setLiveJournal(path, true)
	j := &batchJournal{path: path, f: f, enc: json.NewEncoder(f)}
	err = j.enc.Encode(head)
	if err == nil && durable {
		if err = f.Sync(); err == nil {
			err = syncDir(filepath.Dir(path))
		}
	}
	if err != nil {
		f.Close()
		os.Remove(path)
		setLiveJournal(path, false)
		return nil, err
	}
	return j, nil
}

// add appends one message's line.
func (j *batchJournal) add(entry any) error { return j.enc.Encode(entry) }

// close leaves the journal in place for recovery: its batch was not
// recorded.
func (j *batchJournal) close() {
	j.f.Close()
	setLiveJournal(j.path, false)
}

// remove deletes the journal of a recorded batch.
func (j *batchJournal) remove() error {
	j.close()
	if err := os.Remove(j.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// recoverBatchJournals calls recover for every journal matching pattern
// that is not one of this process's open batches, with a decoder
// positioned after the head it decoded into head (a fresh value from
// newHead each time). Journals whose head names another process that
// still runs are skipped. One whose head does not decode is removed (a
// head is written before its batch does anything), unless it is less than
// a minute old: another process may be writing it this instant.
//
// A journal another user could have written (statefile.Open: a link,
// another user's file, a group- or world-writable one) is ignored, with a
// warning, and left in place: believed, a planted delivered journal would
// make messages be recorded, and deleted, undelivered, and a planted mbox
// journal would cut an mbox it names.
func recoverBatchJournals(log *slog.Logger, pattern string, newHead func() journalHead, recover func(path string, head journalHead, dec *json.Decoder) error) error {
	paths, err := filepath.Glob(pattern)
	if err != nil {
		return err
	}
	var errs []error
	for _, path := range paths {
		if isLiveJournal(path) {
			continue
		}
		if err := recoverOne(log, path, newHead(), recover); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// journalHead is what every batch journal's head tells.
type journalHead interface {
	pid() int
	valid() bool
}

func recoverOne(log *slog.Logger, path string, head journalHead, recover func(string, journalHead, *json.Decoder) error) error {
	f, err := statefile.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if statefile.IsUntrusted(err) {
		warnUntrustedJournal(log, err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("journal %s: %w", path, err)
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReader(f))
	if err := dec.Decode(head); err != nil || !head.valid() {
		if fi, err := f.Stat(); err == nil && time.Since(fi.ModTime()) < time.Minute {
			return nil
		}
		return os.Remove(path)
	}
	if p := head.pid(); p > 0 && p != os.Getpid() && !errors.Is(unix.Kill(p, 0), unix.ESRCH) {
		return nil // a batch in progress in another process
	}
	return recover(path, head, dec)
}

package ledger

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gofetchmail/gofetchmail/statefile"
)

// Kind names what a journal's batch was delivered to, and so how the next
// run recovers it.
type Kind string

// The kinds of journal (see the package documentation).
const (
	KindMaildir   Kind = "maildir"
	KindMbox      Kind = "mbox"
	KindDelivered Kind = "delivered"
)

// Head is the first line of every journal.
type Head struct {
	Kind    Kind   `json:"kind"`
	Pid     int    `json:"pid"`
	Account string `json:"account"`          // the idfile key the UIDs belong to
	Target  string `json:"target,omitempty"` // the maildir or mbox path
	Start   int64  `json:"start,omitempty"`  // mbox: its size before the batch
}

func (h *Head) valid() bool {
	switch h.Kind {
	case KindMaildir, KindMbox:
		return h.Account != "" && h.Target != ""
	case KindDelivered:
		return h.Account != ""
	}
	return false
}

// Entry is one message of a journaled batch.
type Entry struct {
	UID string `json:"uid,omitempty"`
	Key string `json:"key,omitempty"` // maildir: the message's file name
	End int64  `json:"end,omitempty"` // mbox: the offset just past it
}

// JournalPattern is the glob of every journal beside the idfile.
func JournalPattern(idfile string) string { return idfile + ".journal-*" }

// journalPrefix is the name of a journal of kind beside idfile, before
// its random characters.
func journalPrefix(idfile string, kind Kind) string {
	return idfile + ".journal-" + string(kind)
}

// journal is one batch's journal file, open for appending.
type journal struct {
	l    *Ledger
	path string
	f    *os.File
	w    *bufio.Writer // what enc encodes, written to f by flush
	enc  *json.Encoder
}

// createJournal creates a new journal for a batch of kind (statefile
// CreateTemp: a random name, created exclusively, so nothing planted at a
// guessable name is written through) with its head. With durable, the head
// is fsync'd with its directory before it returns (the batch it describes
// may then write).
func (l *Ledger) createJournal(idfile string, head Head, durable bool) (*journal, error) {
	prefix := journalPrefix(idfile, head.Kind)
	f, err := statefile.CreateTemp(filepath.Dir(prefix), filepath.Base(prefix)+"-*")
	if err != nil {
		return nil, err
	}
	// Recovery in this process leaves it alone from now on; before its
	// head is written, a journal is too young for recovery to take anyway.
	path := f.Name()
	l.setLive(path, true)
	w := bufio.NewWriter(f)
	j := &journal{l: l, path: path, f: f, w: w, enc: json.NewEncoder(w)}
	err = j.enc.Encode(head)
	if err == nil && durable {
		err = j.sync()
	} else if err == nil {
		err = j.w.Flush()
	}
	if err != nil {
		f.Close()
		os.Remove(path)
		l.setLive(path, false)
		return nil, err
	}
	return j, nil
}

// add appends one message's line (not fsync'd: a kill loses no written
// data; see sync).
func (j *journal) add(e Entry) error {
	if err := j.enc.Encode(e); err != nil {
		return err
	}
	return j.w.Flush()
}

// addBuffered is add for a batch journaled whole before its sync: the
// lines reach the file with the sync (one write for the batch instead of
// one a message).
func (j *journal) addBuffered(e Entry) error { return j.enc.Encode(e) }

// sync makes what was written durable, the journal's name included.
func (j *journal) sync() error {
	if err := j.w.Flush(); err != nil {
		return err
	}
	if err := j.f.Sync(); err != nil {
		return err
	}
	return statefile.SyncDir(filepath.Dir(j.path))
}

// close leaves the journal in place for recovery: its batch was not
// recorded.
func (j *journal) close() {
	j.f.Close()
	j.l.setLive(j.path, false)
}

// remove deletes the journal of a recorded batch.
func (j *journal) remove() error {
	j.close()
	if err := os.Remove(j.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Recover finishes or undoes, by kind, the batches that dead runs (or
// failed sessions of this process) left journaled beside the idfile of
// uids. Journals of this process's open batches, and those whose head
// names another process that still runs, are left alone. One whose head
// does not decode is removed (a head is written before its batch does
// anything), unless it is less than a minute old: another process may be
// writing it this instant.
//
// A journal another user could have written (statefile.Open: a link,
// another user's file, a group- or world-writable one) is ignored, with a
// warning, and left in place: believed, a planted delivered journal would
// make messages be recorded, and deleted, undelivered, and a planted mbox
// journal would cut an mbox it names.
func (l *Ledger) Recover(uids *UIDStore, log *slog.Logger) error {
	if uids == nil || uids.Path() == "" {
		return nil
	}
	l.commit.Lock()
	defer l.commit.Unlock()
	paths, err := filepath.Glob(JournalPattern(uids.Path()))
	if err != nil {
		return err
	}
	errs := recoverLegacy(uids, log)
	for _, path := range paths {
		if l.isLive(path) {
			continue
		}
		if err := recoverOne(path, uids, log); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// warnUntrusted says, in one line, that a journal beside the idfile is
// ignored because another user could have written it: what it names (UIDs
// to record, an mbox to cut back, a maildir to publish) is not believed.
func warnUntrusted(log *slog.Logger, err error) {
	log.Warn(fmt.Sprintf("ignoring journal %v; nothing it names is recorded or undone: remove it if you did not make it, and keep the idfile in a directory only you can write", err))
}

func recoverOne(path string, uids *UIDStore, log *slog.Logger) error {
	return recoverFile(path, uids, log, func(dec *json.Decoder) (Head, error) {
		var h Head
		err := dec.Decode(&h)
		return h, err
	})
}

// recoverFile recovers the journal at path (see Recover), whose head
// decodeHead reads: this format's, or an older one's translated
// (legacy.go). The lines after the head decode as Entry in every format.
func recoverFile(path string, uids *UIDStore, log *slog.Logger, decodeHead func(*json.Decoder) (Head, error)) error {
	f, err := statefile.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if statefile.IsUntrusted(err) {
		warnUntrusted(log, err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("journal %s: %w", path, err)
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReader(f))
	head, err := decodeHead(dec)
	if err != nil || !head.valid() {
		if fi, err := f.Stat(); err == nil && time.Since(fi.ModTime()) < time.Minute {
			return nil
		}
		return os.Remove(path)
	}
	if p := head.Pid; p > 0 && p != os.Getpid() && !errors.Is(unix.Kill(p, 0), unix.ESRCH) {
		return nil // a batch in progress in another process
	}
	var entries []Entry
	for {
		var e Entry
		if err := dec.Decode(&e); err != nil {
			break // the end, or a line the kill cut short
		}
		entries = append(entries, e)
	}
	switch head.Kind {
	case KindMaildir:
		return recoverMaildir(path, &head, entries, uids, log)
	case KindMbox:
		return recoverMbox(path, &head, entries, uids, log)
	default:
		return recoverDelivered(path, &head, entries, uids, log)
	}
}

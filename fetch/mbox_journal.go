package fetch

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/gofetchmail/gofetchmail/deliver"
)

// The mbox journal closes the window in which a killed run leaves messages
// in an mbox that it never recorded as fetched: the messages of the batch
// being written (up to batchSize, and part of one more), which the next
// run would fetch and append again. When an mbox batch has its locks and
// before it writes (deliver.Mbox.OnBatch), the engine creates
// "<idfile>.mbox-journal-<hash>" durably, naming its pid, the account, the
// mbox and the batch's start offset; after each message it appends the
// message's end offset and UID (no fsync: a kill does not lose written
// data). Once the UIDs are recorded the journal is removed. A run that
// finds the journal of a dead process checks the idfile: if the batch's
// UIDs are recorded, the batch stands; if not, the server still has every
// message of it (nothing is deleted before its UID is recorded), so the
// batch is cut off the mbox (deliver.RecoverMbox) and fetched again.

type mboxJournalHead struct {
	Pid     int    `json:"pid"`
	Account string `json:"account"`
	Mbox    string `json:"mbox"`
	Start   int64  `json:"start"`
}

type mboxJournalEntry struct {
	End int64  `json:"end"`
	UID string `json:"uid,omitempty"`
}

// mboxJournal is the open journal of a session's current mbox batch.
type mboxJournal struct {
	path string
	f    *os.File
	enc  *json.Encoder
}

// liveJournals are the mbox and delivered journals of this process's open
// batches, which recovery must leave alone (its pid is alive, but so is
// that of a batch this process left unrecorded, which recovery must check).
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

func mboxJournalPath(idfile, account, mbox string) string {
	h := fnv.New64a()
	h.Write([]byte(account + "\x00" + mbox))
	return idfile + ".mbox-journal-" + strconv.FormatUint(h.Sum64(), 16)
}

// watchMbox journals the batches of dlv if it is an mbox.
func (s *session) watchMbox(dlv deliver.Deliverer) {
	m, ok := dlv.(*deliver.Mbox)
	if !ok || s.uids == nil || s.uids.Path() == "" {
		return // not an mbox, or no idfile to keep the journal beside
	}
	m.OnBatch(func(start int64) error {
		s.dropMboxJournal() // a batch whose record failed left one
		j, err := openMboxJournal(mboxJournalPath(s.uids.Path(), s.key, m.Path()),
			mboxJournalHead{Pid: os.Getpid(), Account: s.key, Mbox: m.Path(), Start: start})
		if err != nil {
			return err
		}
		s.mboxJ = j
		return nil
	})
}

func openMboxJournal(path string, head mboxJournalHead) (*mboxJournal, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("mbox journal: %w", err)
	}
	j := &mboxJournal{path: path, f: f, enc: json.NewEncoder(f)}
	err = j.enc.Encode(head)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("mbox journal: %w", err)
	}
	setLiveJournal(path, true)
	return j, nil
}

// noteMboxMessage adds a committed message to the journal of the batch.
func (s *session) noteMboxMessage(tx deliver.Tx, uid string) {
	a, ok := tx.(deliver.Appended)
	if !ok || s.mboxJ == nil {
		return
	}
	if err := s.mboxJ.enc.Encode(mboxJournalEntry{End: a.End(), UID: uid}); err != nil {
		// The batch's start is journaled: recovery still cuts the batch
		// off, only less precisely (see deliver.RecoverMbox).
		s.opts.logger().Warn("mbox journal: " + err.Error())
	}
}

// dropMboxJournal removes the journal of a batch that is recorded (or
// failed and was truncated by the mbox itself).
func (s *session) dropMboxJournal() {
	if s.mboxJ == nil {
		return
	}
	s.mboxJ.f.Close()
	if err := os.Remove(s.mboxJ.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.opts.logger().Warn("could not remove the mbox journal; the next run will check it harmlessly", "err", err)
	}
	setLiveJournal(s.mboxJ.path, false)
	s.mboxJ = nil
}

// closeMboxJournal closes the journal file but leaves it in place, for the
// next run to check: the batch was not recorded.
func (s *session) closeMboxJournal() {
	if s.mboxJ != nil {
		s.mboxJ.f.Close()
		setLiveJournal(s.mboxJ.path, false)
		s.mboxJ = nil
	}
}

// recoverMboxJournals checks the mbox journals that dead runs left beside
// the idfile (see above). A journal whose process still runs belongs to a
// batch in progress and is left alone.
func recoverMboxJournals(uids *UIDStore, log *slog.Logger) error {
	paths, err := filepath.Glob(uids.Path() + ".mbox-journal-*")
	if err != nil {
		return err
	}
	var errs []error
	for _, path := range paths {
		if err := recoverMboxJournal(path, uids, log); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func recoverMboxJournal(path string, uids *UIDStore, log *slog.Logger) error {
	if isLiveJournal(path) {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("mbox journal %s: %w", path, err)
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReader(f))
	var head mboxJournalHead
	if err := dec.Decode(&head); err != nil || head.Mbox == "" {
		// Written and fsync'd before the batch wrote anything: a journal
		// without its head was never used.
		log.Warn(fmt.Sprintf("mbox journal %s has no usable head; removed", path))
		return os.Remove(path)
	}
	if head.Pid > 0 && head.Pid != os.Getpid() && !errors.Is(unix.Kill(head.Pid, 0), unix.ESRCH) {
		return nil // a batch in progress in another process
	}
	if _, err := os.Stat(head.Mbox); errors.Is(err, os.ErrNotExist) {
		log.Warn(fmt.Sprintf("mbox journal %s: %s is gone; removed", path, head.Mbox))
		return os.Remove(path)
	}
	lastEnd, recorded := head.Start, false
	for {
		var e mboxJournalEntry
		if err := dec.Decode(&e); err != nil {
			break // the end, or a line the kill cut short
		}
		lastEnd = e.End
		if e.UID != "" && uids.Has(head.Account, e.UID) {
			recorded = true
		}
	}
	if recorded {
		log.Info(fmt.Sprintf("mbox journal %s: the interrupted batch in %s was recorded; it stands", path, head.Mbox))
		return os.Remove(path)
	}
	n, err := deliver.RecoverMbox(context.Background(), head.Mbox, head.Start, lastEnd, nil)
	if err != nil {
		if errors.Is(err, deliver.ErrForeignData) {
			log.Warn(fmt.Sprintf("mbox journal %s: %v; its messages may be there twice", path, err))
			return os.Remove(path)
		}
		return fmt.Errorf("mbox journal %s: %w", path, err) // kept: tried again next run
	}
	if n > 0 {
		log.Info(fmt.Sprintf("removed the %d bytes an interrupted run appended to %s without recording them; their messages are still on the server", n, head.Mbox))
	}
	return os.Remove(path)
}

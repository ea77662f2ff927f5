package fetch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"strconv"

	"github.com/gofetchmail/gofetchmail/deliver"
)

// The mbox journal closes the window in which a killed run leaves messages
// in an mbox that it never recorded as fetched: the messages of the batch
// being written (up to batchSize, and part of one more), which the next
// run would fetch and append again. When an mbox batch has its locks and
// before it writes (deliver.Mbox.OnBatch), the engine creates the batch
// journal "<idfile>.mbox-journal-<hash>-<random>" durably, naming its pid, the
// account, the mbox and the batch's start offset; after each message it
// appends the message's end offset and UID. Once the UIDs are recorded the
// journal is removed. A run that finds the journal of a dead process
// checks the idfile: if the batch's UIDs are recorded, the batch stands;
// if not, the server still has every message of it (nothing is deleted
// before its UID is recorded), so the batch is cut off the mbox
// (deliver.RecoverMbox) and fetched again.

type mboxJournalHead struct {
	Pid     int    `json:"pid"`
	Account string `json:"account"`
	Mbox    string `json:"mbox"`
	Start   int64  `json:"start"`
}

func (h *mboxJournalHead) pid() int    { return h.Pid }
func (h *mboxJournalHead) valid() bool { return h.Mbox != "" }

type mboxJournalEntry struct {
	End int64  `json:"end"`
	UID string `json:"uid,omitempty"`
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
		j, err := createBatchJournal(mboxJournalPath(s.uids.Path(), s.key, m.Path()),
			&mboxJournalHead{Pid: os.Getpid(), Account: s.key, Mbox: m.Path(), Start: start}, true)
		if err != nil {
			return fmt.Errorf("mbox journal: %w", err)
		}
		s.mboxJ = j
		return nil
	})
}

// noteMboxMessage adds a committed message to the journal of the batch.
func (s *session) noteMboxMessage(tx deliver.Tx, uid string) {
	a, ok := tx.(deliver.Appended)
	if !ok || s.mboxJ == nil {
		return
	}
	if err := s.mboxJ.add(mboxJournalEntry{End: a.End(), UID: uid}); err != nil {
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
	if err := s.mboxJ.remove(); err != nil {
		s.opts.logger().Warn("could not remove the mbox journal; the next run will check it harmlessly", "err", err)
	}
	s.mboxJ = nil
}

// closeMboxJournal leaves the journal for the next run to check: the
// batch was not recorded.
func (s *session) closeMboxJournal() {
	if s.mboxJ != nil {
		s.mboxJ.close()
		s.mboxJ = nil
	}
}

// recoverMboxJournals checks the mbox journals that dead runs (or failed
// sessions of this process) left beside the idfile (see above).
func recoverMboxJournals(uids *UIDStore, log *slog.Logger) error {
	return recoverBatchJournals(log, uids.Path()+".mbox-journal-*",
		func() journalHead { return &mboxJournalHead{} },
		func(path string, h journalHead, dec *json.Decoder) error {
			return recoverMboxBatch(path, h.(*mboxJournalHead), dec, uids, log)
		})
}

func recoverMboxBatch(path string, head *mboxJournalHead, dec *json.Decoder, uids *UIDStore, log *slog.Logger) error {
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

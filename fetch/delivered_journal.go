package fetch

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"

	"github.com/gofetchmail/gofetchmail/deliver"
)

// The delivered journal closes the window in which a killed run forgets
// messages it had handed over for good: a target that is not a Batcher
// (SMTP, LMTP, an MDA, BSMTP) has delivered a message once its Commit
// returns, but the UIDs are recorded in the idfile only once per batch.
// After each such Commit the engine appends the UID to the batch journal
// "<idfile>.delivered-<pid>-<n>-<random>"; recording the batch removes it. A run
// that finds the journal of a dead process records its UIDs, so the next
// poll deletes those messages on the server instead of delivering them
// again.

type deliveredHead struct {
	Pid     int    `json:"pid"`
	Account string `json:"account"`
}

func (h *deliveredHead) pid() int    { return h.Pid }
func (h *deliveredHead) valid() bool { return h.Account != "" }

type deliveredEntry struct {
	UID string `json:"uid"`
}

var deliveredSeq atomic.Int64

// noteDelivered journals the UID of a message that the (non-batching)
// target has just taken for good.
func (s *session) noteDelivered(uid string) {
	if uid == "" || s.uids == nil || s.uids.Path() == "" {
		return
	}
	if _, ok := s.dlv.(deliver.Batcher); ok {
		return // maildir and mbox: durable only at Sync, see their journals
	}
	if s.doneJ == nil {
		prefix := fmt.Sprintf("%s.delivered-%d-%d", s.uids.Path(), os.Getpid(), deliveredSeq.Add(1))
		j, err := createBatchJournal(prefix, &deliveredHead{Pid: os.Getpid(), Account: s.key}, false)
		if err != nil {
			s.opts.logger().Warn("delivered journal: " + err.Error())
			return
		}
		s.doneJ = j
	}
	if err := s.doneJ.add(deliveredEntry{UID: uid}); err != nil {
		s.opts.logger().Warn("delivered journal: " + err.Error())
	}
}

// dropDelivered removes the journal once its UIDs are recorded.
func (s *session) dropDelivered() {
	if s.doneJ != nil {
		s.doneJ.remove()
		s.doneJ = nil
	}
}

// closeDelivered leaves the journal for the next run: the batch was not
// recorded.
func (s *session) closeDelivered() {
	if s.doneJ != nil {
		s.doneJ.close()
		s.doneJ = nil
	}
}

// recoverDelivered records the UIDs in the delivered journals that dead
// runs (or failed sessions of this process) left beside the idfile.
func recoverDelivered(uids *UIDStore, log *slog.Logger) error {
	return recoverBatchJournals(log, uids.Path()+".delivered-*",
		func() journalHead { return &deliveredHead{} },
		func(path string, h journalHead, dec *json.Decoder) error {
			head := h.(*deliveredHead)
			var got []string
			for {
				var e deliveredEntry
				if err := dec.Decode(&e); err != nil {
					break // the end, or a line the kill cut short
				}
				if e.UID != "" && !uids.Has(head.Account, e.UID) {
					got = append(got, e.UID)
				}
			}
			if len(got) > 0 {
				uids.Add(head.Account, got...)
				if err := uids.Save(); err != nil {
					return err // the journal stays: tried again next run
				}
				log.Info(fmt.Sprintf("recorded %d messages for %s that an interrupted run had delivered (%s); they will not be delivered again", len(got), head.Account, path))
			}
			return os.Remove(path)
		})
}

package fetch

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/gofetchmail/gofetchmail/deliver"
)

// The delivered journal closes the window in which a killed run forgets
// messages it had handed over for good: a target that is not a Batcher
// (SMTP, LMTP, an MDA, BSMTP) has delivered a message once its Commit
// returns, but the UIDs are recorded in the idfile only once per batch.
// After each such Commit the engine appends the UID to
// "<idfile>.delivered-<pid>-<n>" (a write without fsync: a kill does not
// lose written data); recording the batch removes the file. A run that
// finds the journal of a dead process records its UIDs, so the next poll
// deletes those messages on the server instead of delivering them again.

type deliveredHead struct {
	Pid     int    `json:"pid"`
	Account string `json:"account"`
}

type deliveredEntry struct {
	UID string `json:"uid"`
}

// deliveredJournal is the open journal of a session's current batch.
type deliveredJournal struct {
	path string
	f    *os.File
	enc  *json.Encoder
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
		path := fmt.Sprintf("%s.delivered-%d-%d", s.uids.Path(), os.Getpid(), deliveredSeq.Add(1))
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			s.opts.logger().Warn("delivered journal: " + err.Error())
			return
		}
		j := &deliveredJournal{path: path, f: f, enc: json.NewEncoder(f)}
		setLiveJournal(path, true)
		if err := j.enc.Encode(deliveredHead{Pid: os.Getpid(), Account: s.key}); err != nil {
			s.opts.logger().Warn("delivered journal: " + err.Error())
		}
		s.doneJ = j
	}
	if err := s.doneJ.enc.Encode(deliveredEntry{UID: uid}); err != nil {
		s.opts.logger().Warn("delivered journal: " + err.Error())
	}
}

// dropDelivered removes the journal once its UIDs are recorded.
func (s *session) dropDelivered() {
	if s.doneJ == nil {
		return
	}
	s.doneJ.f.Close()
	os.Remove(s.doneJ.path)
	setLiveJournal(s.doneJ.path, false)
	s.doneJ = nil
}

// closeDelivered leaves the journal for the next run: the batch was not
// recorded.
func (s *session) closeDelivered() {
	if s.doneJ != nil {
		s.doneJ.f.Close()
		setLiveJournal(s.doneJ.path, false)
		s.doneJ = nil
	}
}

// recoverDelivered records the UIDs in the delivered journals that dead
// runs (or failed sessions of this process) left beside the idfile.
func recoverDelivered(uids *UIDStore, log *slog.Logger) error {
	paths, err := filepath.Glob(uids.Path() + ".delivered-*")
	if err != nil {
		return err
	}
	var errs []error
	for _, path := range paths {
		if isLiveJournal(path) {
			continue
		}
		if err := recoverDeliveredJournal(path, uids, log); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func recoverDeliveredJournal(path string, uids *UIDStore, log *slog.Logger) error {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("delivered journal %s: %w", path, err)
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReader(f))
	var head deliveredHead
	if err := dec.Decode(&head); err != nil || head.Account == "" {
		log.Warn(fmt.Sprintf("delivered journal %s has no usable head; removed", path))
		return os.Remove(path)
	}
	if head.Pid > 0 && head.Pid != os.Getpid() && !errors.Is(unix.Kill(head.Pid, 0), unix.ESRCH) {
		return nil // a batch in progress in another process
	}
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
}

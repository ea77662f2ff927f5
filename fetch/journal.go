package fetch

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/gofetchmail/gofetchmail/deliver"
	"github.com/gofetchmail/gofetchmail/statefile"
)

// The journal closes the one window in which a crash could make a maildir
// delivery happen twice: between publishing a batch (tmp/ -> new/) and
// recording its UIDs in the idfile. Before publishing, the engine writes
// "<idfile>.journal", naming the account, the maildir and each message's UID
// and file key; after the UIDs are recorded it removes the journal. A run
// that finds a journal first lets the maildir finish the batch (Recover) and
// records the UIDs of the messages that are really there, so the next poll
// deletes them on the server instead of delivering them again.

type journal struct {
	Account string         `json:"account"`
	Maildir string         `json:"maildir"`
	Entries []journalEntry `json:"entries"`
}

type journalEntry struct {
	UID string `json:"uid"`
	Key string `json:"key"`
}

func journalPath(idfile string) string { return idfile + ".journal" }

// stager is a deliverer whose batches can be journaled.
type stager interface {
	deliver.Stager
	Path() string
}

func writeJournal(path string, j journal) error {
	data, err := json.Marshal(j)
	if err != nil {
		return err
	}
	if err := writeFileDurable(path, append(data, '\n')); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// recoverJournal finishes the maildir batch a crashed run left in its
// journal, undoes its unrecorded mbox batches (mbox_journal.go) and
// records what it had delivered to other targets (delivered_journal.go),
// if any. Without journals it does nothing.
func recoverJournal(uids *UIDStore, log *slog.Logger) error {
	commitMu.Lock()
	defer commitMu.Unlock()
	return errors.Join(recoverMaildirJournal(uids, log), recoverMboxJournals(uids, log), recoverDelivered(uids, log))
}

// warnUntrustedJournal says, in one line, that a journal beside the idfile
// is ignored because another user could have written it: what it names
// (UIDs to record, an mbox to cut back) is not believed.
func warnUntrustedJournal(log *slog.Logger, err error) {
	log.Warn(fmt.Sprintf("ignoring journal %v; nothing it names is recorded or undone: remove it if you did not make it, and keep the idfile in a directory only you can write", err))
}

func recoverMaildirJournal(uids *UIDStore, log *slog.Logger) error {
	path := journalPath(uids.Path())
	data, err := statefile.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if statefile.IsUntrusted(err) {
		warnUntrustedJournal(log, err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	var j journal
	if err := json.Unmarshal(data, &j); err != nil {
		// A journal is written through a rename: a torn one cannot happen.
		// Keep it for inspection; messages it names may be fetched again.
		return fmt.Errorf("journal %s: %w", path, err)
	}
	md, err := deliver.NewMaildir(j.Maildir, nil)
	if err != nil {
		return fmt.Errorf("journal %s: %w", path, err)
	}
	defer md.Close()
	keys := make([]string, len(j.Entries))
	for i, e := range j.Entries {
		keys[i] = e.Key
	}
	delivered, err := md.Recover(keys)
	if err != nil {
		return fmt.Errorf("journal %s: %w", path, err)
	}
	var got []string
	for _, e := range j.Entries {
		if delivered[e.Key] {
			got = append(got, e.UID)
		}
	}
	uids.Add(j.Account, got...)
	if err := uids.Save(); err != nil {
		return err
	}
	log.Info(fmt.Sprintf("finished the delivery an interrupted run left in %s: %d of %d messages for %s are in %s",
		path, len(got), len(j.Entries), j.Account, j.Maildir))
	return os.Remove(path)
}

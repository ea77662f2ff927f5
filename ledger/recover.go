package ledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/gofetchmail/gofetchmail/deliver"
)

// recoverMaildir finishes a maildir batch: its files were staged durably
// in tmp/ before the journal was written, and published after. The
// maildir publishes what is still staged (deliver.Maildir.Recover) and
// the UIDs of the messages really there (new/ or cur/) are recorded, so
// the next poll deletes them on the server instead of delivering them
// again. A key the journal names but the maildir lacks was never durably
// staged: that message is fetched again.
func recoverMaildir(path string, head *Head, entries []Entry, uids *UIDStore, log *slog.Logger) error {
	md, err := deliver.NewMaildir(head.Target, nil)
	if err != nil {
		return fmt.Errorf("journal %s: %w", path, err)
	}
	defer md.Close()
	keys := make([]string, len(entries))
	for i, e := range entries {
		keys[i] = e.Key
	}
	delivered, err := md.Recover(keys)
	if err != nil {
		return fmt.Errorf("journal %s: %w", path, err)
	}
	var got []string
	for _, e := range entries {
		if e.UID != "" && delivered[e.Key] {
			got = append(got, e.UID)
		}
	}
	uids.Add(head.Account, got...)
	if err := uids.Save(); err != nil {
		return err // the journal stays: tried again next run
	}
	log.Info(fmt.Sprintf("finished the delivery an interrupted run left in %s: %d of %d messages for %s are in %s",
		path, len(got), len(entries), head.Account, head.Target))
	return os.Remove(path)
}

// recoverMbox checks an mbox batch: if its UIDs are recorded, the batch
// stands; if not, the server still has every message of it (nothing is
// deleted before its UID is recorded), so the batch is cut off the mbox
// (deliver.RecoverMbox) and fetched again.
func recoverMbox(path string, head *Head, entries []Entry, uids *UIDStore, log *slog.Logger) error {
	if _, err := os.Stat(head.Target); errors.Is(err, os.ErrNotExist) {
		log.Warn(fmt.Sprintf("mbox journal %s: %s is gone; removed", path, head.Target))
		return os.Remove(path)
	}
	lastEnd, recorded := head.Start, false
	for _, e := range entries {
		lastEnd = e.End
		if e.UID != "" && uids.Has(head.Account, e.UID) {
			recorded = true
		}
	}
	if recorded {
		log.Info(fmt.Sprintf("mbox journal %s: the interrupted batch in %s was recorded; it stands", path, head.Target))
		return os.Remove(path)
	}
	n, err := deliver.RecoverMbox(context.Background(), head.Target, head.Start, lastEnd, nil)
	if err != nil {
		if errors.Is(err, deliver.ErrForeignData) {
			log.Warn(fmt.Sprintf("mbox journal %s: %v; its messages may be there twice", path, err))
			return os.Remove(path)
		}
		return fmt.Errorf("mbox journal %s: %w", path, err) // kept: tried again next run
	}
	if n > 0 {
		log.Info(fmt.Sprintf("removed the %d bytes an interrupted run appended to %s without recording them; their messages are still on the server", n, head.Target))
	}
	return os.Remove(path)
}

// recoverDelivered records the UIDs of messages a target that is not a
// Batcher (SMTP, LMTP, an MDA, BSMTP) had taken for good.
func recoverDelivered(path string, head *Head, entries []Entry, uids *UIDStore, log *slog.Logger) error {
	var got []string
	for _, e := range entries {
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

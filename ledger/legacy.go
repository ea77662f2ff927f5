package ledger

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"

	"github.com/gofetchmail/gofetchmail/statefile"
)

// Journals of gofetchmail before one journal format (before the ledger):
// three formats, recovered as the code that wrote them did, translated
// into the recovery of their kind, with the same trust rules as every
// journal (statefile: the user's own regular file that nobody else can
// write, never a link; a planted one is ignored, with a warning, and left
// in place), so that an upgrade right after a crash delivers nothing twice.
//
//	<idfile>.journal              maildir: one JSON object, written through a rename:
//	                              {"account":..,"maildir":..,"entries":[{"uid":..,"key":..},..]}
//	<idfile>.mbox-journal-*       mbox: JSON lines, {"pid":..,"account":..,"mbox":..,"start":..}
//	                              then {"end":..,"uid":..} a message
//	<idfile>.delivered-*          SMTP, LMTP, MDA, BSMTP: JSON lines, {"pid":..,"account":..}
//	                              then {"uid":..} a message
//
// The last two were written as this package's journals are (a head, then
// a line a message, a kill cutting the last one short), so they go through
// the same recovery (recoverFile) with their head translated; their
// entries' fields have the names of Entry's.

// legacyMaildir is the old maildir journal.
type legacyMaildir struct {
	Account string  `json:"account"`
	Maildir string  `json:"maildir"`
	Entries []Entry `json:"entries"` // {"uid","key"}
}

// legacyHead is the head of an old mbox or delivered journal.
type legacyHead struct {
	Pid     int    `json:"pid"`
	Account string `json:"account"`
	Mbox    string `json:"mbox"`  // mbox journals only
	Start   int64  `json:"start"` // mbox journals only
}

// recoverLegacy recovers the journals older gofetchmail builds left beside
// the idfile of uids.
func recoverLegacy(uids *UIDStore, log *slog.Logger) []error {
	idfile := uids.Path()
	var errs []error
	if err := recoverLegacyMaildir(idfile+".journal", uids, log); err != nil {
		errs = append(errs, err)
	}
	for _, kind := range []Kind{KindMbox, KindDelivered} {
		pattern := idfile + ".mbox-journal-*"
		if kind == KindDelivered {
			pattern = idfile + ".delivered-*"
		}
		paths, _ := filepath.Glob(pattern)
		for _, path := range paths {
			err := recoverFile(path, uids, log, func(dec *json.Decoder) (Head, error) {
				var h legacyHead
				if err := dec.Decode(&h); err != nil {
					return Head{}, err
				}
				head := Head{Kind: kind, Pid: h.Pid, Account: h.Account}
				if kind == KindMbox {
					head.Target, head.Start = h.Mbox, h.Start
				}
				return head, nil
			})
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

// recoverLegacyMaildir finishes the batch an old maildir journal names. It
// was written whole through a rename, so it never is torn: one that does
// not decode, or names no account or maildir, is kept and said.
func recoverLegacyMaildir(path string, uids *UIDStore, log *slog.Logger) error {
	data, err := statefile.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if statefile.IsUntrusted(err) {
		warnUntrusted(log, err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("journal %s: %w", path, err)
	}
	var j legacyMaildir
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("journal %s, left by an older gofetchmail: %w; its messages may be delivered again: remove it", path, err)
	}
	head := Head{Kind: KindMaildir, Account: j.Account, Target: j.Maildir}
	if !head.valid() {
		return fmt.Errorf("journal %s, left by an older gofetchmail, names no account or maildir; its messages may be delivered again: remove it", path)
	}
	return recoverMaildir(path, &head, j.Entries, uids, log)
}

package imapbox

import (
	"context"
	"slices"

	"github.com/gofetchmail/gofetchmail/imap"
	"github.com/gofetchmail/gofetchmail/ledger"
)

// CountNew counts the messages of a folder selected read-only (EXAMINE,
// mb) that a poll would fetch: Box.List's selection (unseen, or at or above
// the watermark, unless recorded under key; all undeleted with fetchall),
// without changing anything.
func CountNew(ctx context.Context, sess *imap.Session, uids *ledger.UIDStore, key string, mb *imap.Mailbox, fetchall bool) (int, error) {
	if mb.Exists == 0 {
		return 0, nil
	}
	st := loadState(uids, key, mb.UIDValidity)
	if fetchall {
		c, err := sess.Search(ctx, imap.Query{Undeleted: true})
		return len(c), err
	}
	cand, err := sess.Search(ctx, imap.Query{Unseen: true, Undeleted: true})
	if err != nil {
		return 0, err
	}
	if st.next > 0 && mb.UIDValidity != 0 {
		newer, err := sess.Search(ctx, imap.Query{FromUID: st.next, Undeleted: true})
		if err != nil {
			return 0, err
		}
		cand = append(cand, newer...)
		slices.Sort(cand)
		cand = slices.Compact(cand)
	}
	n := 0
	for _, x := range cand {
		if !st.recorded[x] {
			n++
		}
	}
	return n, nil
}

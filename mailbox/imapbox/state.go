package imapbox

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gofetchmail/gofetchmail/ledger"
)

// IMAP UID state (an extension: fetchmail keeps none for IMAP).
//
// It lives in the idfile, in fetchmail's line format, one account key per
// folder: "remotename@queryname/FOLDER", the folder with the bytes a key
// cannot hold (blanks, '@', '%', non-ASCII) written as %XX. fetchmail reads
// such lines as belonging to a host "queryname/FOLDER" it never polls and
// keeps them verbatim, so both programs can share one file. The UIDs of a
// folder key are
//
//	VALIDITY/UID       a message delivered and still on the server
//	VALIDITY/next=N    the watermark: every UID below N was present at an
//	                   earlier poll and was considered then
//
// VALIDITY is the folder's UIDVALIDITY; entries of another UIDVALIDITY
// mean the mailbox was rebuilt on the server: they are dropped (and the
// change logged). Selection with state: the unseen messages, plus every
// message at or above the watermark whatever its flags (so a message
// another client read before this poll is still fetched once), minus the
// messages recorded as delivered. Without state (first poll, or after a
// UIDVALIDITY change) only the unseen ones, as fetchmail does.
//
// Keys are compared case-insensitively, as fetchmail does: two folders
// whose names differ only in case share one state and will disturb each
// other (their UIDVALIDITYs differ).

// StateKey is the idfile account key of one folder.
func StateKey(account, folder string) string {
	var b strings.Builder
	b.WriteString(account)
	b.WriteByte('/')
	for i := 0; i < len(folder); i++ {
		c := folder[i]
		if c <= 0x20 || c >= 0x7f || c == '%' || c == '@' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Entry is the idfile entry of a message delivered and still on the
// server.
func Entry(validity, uid uint32) string { return fmt.Sprintf("%d/%d", validity, uid) }

// Watermark is the idfile entry that says every UID below next was
// considered.
func Watermark(validity, next uint32) string { return fmt.Sprintf("%d/next=%d", validity, next) }

// folderState is what the idfile says about one folder.
type folderState struct {
	next      uint32          // watermark; 0 = no state
	nextEntry string          // the watermark's entry, to replace it
	recorded  map[uint32]bool // delivered, still on the server
	stale     []string        // entries of another UIDVALIDITY (or unreadable)
	oldValid  uint32          // the other UIDVALIDITY seen, if any
}

// loadState reads the state of key for a folder whose UIDVALIDITY is
// validity.
func loadState(uids *ledger.UIDStore, key string, validity uint32) folderState {
	st := folderState{recorded: map[uint32]bool{}}
	for e := range uids.Seen(key) {
		v, rest, ok := strings.Cut(e, "/")
		vn, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil {
			st.stale = append(st.stale, e)
			continue
		}
		if uint32(vn) != validity {
			st.stale = append(st.stale, e)
			st.oldValid = uint32(vn)
			continue
		}
		if n, ok := strings.CutPrefix(rest, "next="); ok {
			if x, err := strconv.ParseUint(n, 10, 32); err == nil {
				st.next, st.nextEntry = uint32(x), e
				continue
			}
		} else if x, err := strconv.ParseUint(rest, 10, 32); err == nil && x > 0 {
			st.recorded[uint32(x)] = true
			continue
		}
		st.stale = append(st.stale, e)
	}
	return st
}

package imap

import (
	"sync"

	"github.com/emersion/go-imap/v2/imapclient"
)

// strayBodies counts the message bodies a server sent that no command
// claimed: imapclient hands a FETCH response to the UID FETCH in progress
// only for a UID it asked for and has not been answered yet, and drops
// the others. A second body for a UID already answered means two messages
// share that UID (RFC 3501 section 2.3.1.1 makes UIDs unique in a
// mailbox), and flagging or expunging by that UID would hit a message
// whose body was dropped; a body for a UID not asked for means the
// server's UIDs cannot be taken at their word either.
type strayBodies struct {
	mu   sync.Mutex
	n    int
	uids map[uint32]bool // 0: a body that came before any UID
}

func (t *strayBodies) note(uid uint32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n++
	if t.uids == nil {
		t.uids = map[uint32]bool{}
	}
	t.uids[uid] = true
}

// unilateralFetch reads a FETCH response no command claimed and notes it
// if it carries a body. It runs in its own goroutine; imapclient waits
// for a literal to be read before it goes on, and the UID comes before
// the literal in the response, so a stray body is noted before the
// command that was running can end.
func (t *strayBodies) unilateralFetch(msg *imapclient.FetchMessageData) {
	var uid uint32
	for {
		item := msg.Next()
		if item == nil {
			return
		}
		switch it := item.(type) {
		case imapclient.FetchItemDataUID:
			uid = uint32(it.UID)
		case imapclient.FetchItemDataBodySection:
			if it.Literal != nil {
				t.note(uid)
			}
		case imapclient.FetchItemDataBinarySection:
			if it.Literal != nil {
				t.note(uid)
			}
		}
	}
}

// StrayBodies returns how many message bodies the server sent that no
// command claimed (see FetchStaged) since the last call, and their UIDs
// as far as known (0 for a body that came before its UID), and forgets
// them. A non-zero count means the server's UIDs do not identify its
// messages one to one.
func (s *Session) StrayBodies() (int, map[uint32]bool) {
	s.stray.mu.Lock()
	defer s.stray.mu.Unlock()
	n, uids := s.stray.n, s.stray.uids
	s.stray.n, s.stray.uids = 0, nil
	return n, uids
}

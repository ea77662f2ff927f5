package pop3test

import (
	"strconv"
	"sync"
)

// Message is one message in a Mailbox.
type Message struct {
	// UID is the UIDL id. NewMailbox and Add assign "uid-N" when it is empty.
	UID string
	// Data is the raw RFC 5322 message with LF or CRLF line endings. The
	// server sends it with CRLF endings, dot-stuffed, and a final line
	// ending added if it lacks one. It must not be modified once added.
	Data []byte
}

// Mailbox is the maildrop of one user. It is safe for concurrent use.
type Mailbox struct {
	user, pass string

	mu     sync.Mutex
	msgs   []*entry
	locked bool
	seq    int
}

// entry gives each stored message an identity, so that a session's
// deletions remove exactly the messages it saw even if Add ran meanwhile.
type entry struct{ Message }

// NewMailbox returns a mailbox for user with password pass holding msgs.
func NewMailbox(user, pass string, msgs ...Message) *Mailbox {
	m := &Mailbox{user: user, pass: pass}
	m.Add(msgs...)
	return m
}

// Add appends messages; sessions that are already logged in do not see them.
func (m *Mailbox) Add(msgs ...Message) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, msg := range msgs {
		m.seq++
		if msg.UID == "" {
			msg.UID = "uid-" + strconv.Itoa(m.seq)
		}
		m.msgs = append(m.msgs, &entry{msg})
	}
}

// Messages returns the messages still in the mailbox, in order. Messages
// deleted by a session that ended with QUIT are gone.
func (m *Mailbox) Messages() []Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Message, len(m.msgs))
	for i, e := range m.msgs {
		out[i] = e.Message
	}
	return out
}

// open locks the mailbox for a session and returns its messages, or
// false if another session holds it.
func (m *Mailbox) open() ([]*entry, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.locked {
		return nil, false
	}
	m.locked = true
	return append([]*entry(nil), m.msgs...), true
}

// close unlocks the mailbox, removing the given entries (QUIT) or
// nothing (dropped connection).
func (m *Mailbox) close(deleted map[*entry]bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.locked = false
	if len(deleted) == 0 {
		return
	}
	kept := m.msgs[:0]
	for _, e := range m.msgs {
		if !deleted[e] {
			kept = append(kept, e)
		}
	}
	clear(m.msgs[len(kept):])
	m.msgs = kept
}

package fetch

import "context"

// msgNum is a POP3 message number (RFC 1939 section 3): the position of a
// message in one session's listing, meaningless in the next session.
type msgNum int

// imapUID is an IMAP message UID (RFC 9051 section 2.3.1.1): stable for as
// long as the folder's UIDVALIDITY is.
type imapUID uint32

// message is one server message as listed. A message has a number (POP3)
// or a UID (IMAP), never both; they are different things and are never
// converted into each other.
type message struct {
	num  msgNum  // POP3 only
	iuid imapUID // IMAP only
	uid  string  // the idfile entry that records it; "" when it cannot be recorded
	size int64   // as listed (LIST, RFC822.SIZE); 0 when unknown
}

// id is what log lines show as "label:id": the POP3 number or the IMAP UID.
func (m message) id() int64 {
	if m.iuid != 0 {
		return int64(m.iuid)
	}
	return int64(m.num)
}

// mailbox is what the engine (engine.go) needs of a protocol: one POP3
// session (pop3box.go) or one IMAP folder (imapbox.go). The engine owns
// the order of things and every rule that is not about the protocol's
// commands: what is old, limit and limitflush and their warning,
// fetchlimit, opening the target, delivery, the commit of each batch,
// what is marked for deletion, the salvage of a broken poll, progress and
// the final status.
type mailbox interface {
	// protocol names the protocol in the Received header.
	protocol() string
	// list reads the mailbox: the messages new to us (fresh, sized) and
	// those an earlier poll delivered that are still there (old). It logs
	// the count line. proceed is false when there is nothing more to do
	// (an empty mailbox, --check).
	list(ctx context.Context) (fresh, old []message, proceed bool, err error)
	// keepOld is called, under keep without flush, with the old messages.
	keepOld(ctx context.Context, old []message) error
	// retrieve streams want, hands each message to the engine
	// (session.receive) and ends each batch with session.endBatch.
	retrieve(ctx context.Context, want []message) error
	// leftBehind notes messages that stay on the server for a later poll
	// (fetchlimit, a failed delivery).
	leftBehind(ms ...message)
	// seen marks messages kept on the server as read, once their batch is
	// recorded (IMAP: BODY.PEEK did not).
	seen(ctx context.Context, kept []message) error
	// settle applies the deletions marked so far (session.toDelete) as
	// far as the protocol allows now: IMAP stores \Deleted and expunges
	// by the expunge option, POP3 sends its DELEs when final, after the
	// retrieval. What a settle made final is counted and forgotten.
	settle(ctx context.Context, final bool) error
	// end is called after the final settle of a poll that went well.
	end(ctx context.Context) error
}

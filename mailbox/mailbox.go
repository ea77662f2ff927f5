package mailbox

import (
	"context"
	"io"
	"log/slog"

	"github.com/gofetchmail/gofetchmail/ledger"
)

// Num is a POP3 message number (RFC 1939 section 3): the position of a
// message in one session's listing, meaningless in the next session.
type Num int

// UID is an IMAP message UID (RFC 9051 section 2.3.1.1): stable for as
// long as the folder's UIDVALIDITY is.
type UID uint32

// Message is one server message as listed. A message has a number (POP3)
// or a UID (IMAP), never both; they are different things and are never
// converted into each other.
type Message struct {
	Num   Num    // POP3 only
	UID   UID    // IMAP only
	Entry string // the idfile entry that records it; "" when it cannot be recorded
	Size  int64  // as listed (LIST, RFC822.SIZE); 0 when unknown
}

// ID is what log lines show as "label:id": the POP3 number or the IMAP UID.
func (m Message) ID() int64 {
	if m.UID != 0 {
		return int64(m.UID)
	}
	return int64(m.Num)
}

// Mailbox is what the engine needs of a protocol: one POP3 session or one
// IMAP folder. The engine calls List, then KeepOld (keep without flush),
// then Retrieve with what it selected, Seen and Settle as batches are
// recorded, the final Settle, and End.
type Mailbox interface {
	// Protocol names the protocol in the Received header.
	Protocol() string
	// List reads the mailbox: the messages new to us (fresh, sized) and
	// those an earlier poll delivered that are still there (old). It logs
	// the count line (Engine.Count). proceed is false when there is
	// nothing more to do (an empty mailbox, --check); fresh is what waits
	// even then.
	List(ctx context.Context) (fresh, old []Message, proceed bool, err error)
	// KeepOld is called, under keep without flush, with the old messages.
	KeepOld(ctx context.Context, old []Message) error
	// Retrieve streams want, hands each message to the engine
	// (Engine.Receive) and ends each batch with Engine.EndBatch.
	Retrieve(ctx context.Context, want []Message) error
	// LeftBehind notes messages that stay on the server for a later poll
	// (fetchlimit, a failed delivery).
	LeftBehind(ms ...Message)
	// Seen marks messages kept on the server as read, once their batch is
	// recorded (IMAP: BODY.PEEK did not).
	Seen(ctx context.Context, kept []Message) error
	// Settle takes the messages marked for deletion since the last call
	// (recorded, flushed or refused) and applies the deletions as far as
	// the protocol allows now: IMAP stores \Deleted and expunges by the
	// expunge option, POP3 sends its DELEs when final, after the
	// retrieval. What a settle made final goes to Engine.Expunged.
	Settle(ctx context.Context, marked []Message, final bool) error
	// End is called after the final settle of a poll that went well.
	End(ctx context.Context) error
}

// Engine is what the engine offers the mailbox it polls.
type Engine interface {
	// NoMail says fetchmail's "No mail for X" of the mailbox (folder:
	// the IMAP folder, "" for POP3).
	NoMail(folder string)
	// Count logs fetchmail's count line of the mailbox: count messages,
	// seen of them known; octets < 0 leaves the size out (IMAP).
	Count(count, seen int, folder string, octets int64)
	// Receive delivers m, read from body to its end, up to its commit,
	// which the mailbox does when the protocol says the message is
	// whole (Delivery.Commit). A failure goes to Failed.
	Receive(ctx context.Context, m Message, body io.Reader) (Delivery, error)
	// Failed deals with a message whose retrieval or delivery failed with
	// err: a delivery failure leaves it on the server (or, refused
	// permanently under no softbounce, marks it for deletion) and returns
	// nil; anything else is returned and ends the poll.
	Failed(ctx context.Context, m Message, err error) error
	// Skipped counts a message the mailbox did not hand to Receive and
	// leaves on the server.
	Skipped()
	// Progress reports one more message handled, n octets read of it.
	Progress(n int64)
	// BatchDue reports whether the batch delivered so far should end now
	// (EndBatch), for a mailbox that streams its messages without batches
	// of its own (POP3's pipelined RETR).
	BatchDue() bool
	// Unrecord drops the idfile entries of the pending messages match
	// picks: they are delivered, but will not be recorded.
	Unrecord(match func(Message) bool)
	// EndBatch ends the batch delivered so far: its commit runs (in the
	// background while the next batch streams in, when the target
	// allows), and the batches committed by now are marked seen or for
	// deletion and settled (Mailbox.Seen, Mailbox.Settle).
	EndBatch(ctx context.Context) error
	// Expunged counts the messages whose deletion the server made final,
	// logs it, forgets their idfile entries and saves the idfile.
	Expunged(ms []Message) error
	// SaveUIDs writes the idfile; a failure is the poll's I/O error.
	SaveUIDs() error
}

// Delivery is a message read to its end and handed to the deliverer, not
// yet committed.
type Delivery interface {
	// Commit makes it delivered and adds it to the pending batch. A
	// failure goes to Engine.Failed.
	Commit() error
	// Abort drops it: nothing of it is delivered.
	Abort()
	// Unrecord: it is delivered by Commit but not recorded in the idfile
	// (another message has its UID).
	Unrecord()
}

// Config is what both mailboxes are given of the poll.
type Config struct {
	Engine    Engine
	UIDs      *ledger.UIDStore // the idfile
	Key       string           // its account key for this mailbox
	Label     string           // "remotename@pollname", in log lines
	Log       *slog.Logger
	Check     bool // -c: count, fetch nothing, change nothing
	Fetchall  bool // every message is fresh, recorded or not
	BatchSize int  // messages per batch (> 0): what one IMAP UID FETCH asks for
	Debug     bool // -v -v: the diagnostics of fetchmail's second -v
}

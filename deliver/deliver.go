package deliver

import (
	"context"
	"io"
)

// Envelope is what the engine knows about one message besides its bytes.
type Envelope struct {
	From   string   // envelope sender; may be "" (bounce)
	To     []string // local recipients
	Remote string   // "user@server", for logs only
}

// Deliverer hands messages to a local mail store or program. Each message is
// one transaction: Begin, any number of Write calls, then Commit or Abort.
type Deliverer interface {
	// Begin starts the delivery of one message.
	Begin(ctx context.Context, env Envelope) (Tx, error)
	// String names the destination for logs: "maildir /path", "mbox /path",
	// "mda CMD".
	String() string
	// Close releases the Deliverer's resources.
	Close() error
}

// Tx is one message being delivered. Message bytes arrive through Write with
// LF line endings, headers first.
type Tx interface {
	io.Writer
	// Commit finishes the message. When it returns nil the message is
	// durable (or, for a Deliverer that is a Batcher, durable once Sync
	// returns nil). When it returns an error the message is not delivered
	// and no trace of it is left.
	Commit() error
	// Abort removes every trace of the partial message. It is safe after a
	// failed Write or a failed Commit, a no-op after a successful Commit,
	// and idempotent.
	Abort() error
}

// Batcher is implemented by a Deliverer that supports group commit. For such
// a Deliverer a successful Commit means "ready", not "durable": only after
// Sync returns nil are all messages committed since the previous Sync
// durable. When Sync returns an error, none of the messages committed since
// the previous Sync may be treated as delivered (they must stay on the
// server); some may still have reached the store, so a later poll can
// deliver them twice: duplicates are possible, loss is not.
type Batcher interface {
	Sync() error
}

var (
	_ Deliverer = (*Maildir)(nil)
	_ Batcher   = (*Maildir)(nil)
	_ Deliverer = (*Mbox)(nil)
	_ Deliverer = (*MDA)(nil)
)

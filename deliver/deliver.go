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

// Stager is a Batcher whose group commit can be split in two, so that the
// caller can write a journal between the halves and deliver exactly once
// across crashes:
//
//   - Prepare waits until every message committed since the last Sync is
//     durable in a staging area, where no mail reader sees it.
//   - Sync then publishes the staged messages (and prepares first any that
//     were committed after Prepare).
//   - Recover, after a crash, publishes the messages named by keys that are
//     still staged and reports which of them are delivered (published now or
//     before). A key it does not report was never durably staged: that
//     message is not delivered.
//
// A Tx of a Stager implements Keyed, naming the message for Recover.
type Stager interface {
	Batcher
	Prepare() error
	Recover(keys []string) (delivered map[string]bool, err error)
}

// Keyed is implemented by the Tx of a Stager: Key names the message's file.
type Keyed interface {
	Key() string
}

// Appended is implemented by the Tx of an Mbox: after Commit, End is the
// file offset just past the message (what RecoverMbox needs to know).
type Appended interface {
	End() int64
}

var (
	_ Stager    = (*Maildir)(nil)
	_ Deliverer = (*Maildir)(nil)
	_ Batcher   = (*Maildir)(nil)
	_ Deliverer = (*Mbox)(nil)
	_ Deliverer = (*MDA)(nil)
)

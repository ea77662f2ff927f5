package pop3box

import (
	"context"
	"errors"
	"fmt"

	"github.com/gofetchmail/gofetchmail/mailbox"
	"github.com/gofetchmail/gofetchmail/pop3"
)

// Options is what a POP3 mailbox is given beyond mailbox.Config.
type Options struct {
	Client *pop3.Client      // logged in
	Caps   pop3.Capabilities // what CAPA said after the login's STLS
	// Skip drops the fresh messages an earlier session of the same poll
	// saw ("expunge N"); nil keeps them all.
	Skip func(fresh []mailbox.Message) []mailbox.Message
}

// Box is the mailbox of one POP3 session.
type Box struct {
	mailbox.Config
	Options
	marked  []mailbox.Message // marked for deletion: DELE'd at the final settle
	deleted []mailbox.Message // DELE'd in this session: final at QUIT
}

// New returns the mailbox of the session o.Client is logged in to. It does
// no I/O.
func New(c mailbox.Config, o Options) *Box {
	return &Box{Config: c, Options: o}
}

// Protocol names POP3 in the Received header.
func (b *Box) Protocol() string { return "POP3" }

// List lists the mailbox: STAT, then UIDL (or LIST) and the sizes of the
// fresh messages.
func (b *Box) List(ctx context.Context) (fresh, old []mailbox.Message, proceed bool, err error) {
	log := b.Log
	count, total, err := b.Client.Stat(ctx)
	if err != nil {
		return nil, nil, false, err
	}
	if count == 0 {
		b.Engine.NoMail("")
		b.UIDs.Retain(b.Key, map[string]bool{})
		return nil, nil, false, nil
	}
	lst, err := b.listMessages(ctx, count)
	if err != nil {
		return nil, nil, false, err
	}
	msgs, times := lst.msgs, lst.times
	withUID := 0
	for _, m := range msgs {
		if m.Entry != "" {
			withUID++
		}
	}
	// A UID the server gives several messages identifies none of them: such
	// messages are treated as having no UID (never "already delivered").
	dups := 0
	for i := range msgs {
		if times == nil || len(times) == withUID {
			break // every UID is distinct: nothing to look for
		}
		if msgs[i].Entry != "" && times[msgs[i].Entry] > 1 {
			msgs[i].Entry = ""
			dups++
		}
	}
	if dups > 0 {
		log.Warn(fmt.Sprintf("%s: the server gives %d messages a UID it also gives another; they are fetched as if they had none", b.Label, dups))
	}
	listed := make([]string, len(msgs))
	for i := range msgs {
		listed[i] = msgs[i].Entry
	}
	seen, all := b.UIDs.Lookup(b.Key, listed)
	if lst.consistent && !all {
		times = lst.count()
		b.UIDs.RetainFunc(b.Key, func(uid string) bool { return times[uid] > 0 })
	}
	old = make([]mailbox.Message, 0, b.UIDs.Len(b.Key))
	for i, m := range msgs {
		if seen[i] && !b.Fetchall {
			old = append(old, m)
			continue
		}
		fresh = append(fresh, m)
	}
	if b.Skip != nil {
		fresh = b.Skip(fresh) // expunge N: not what an earlier session left
	}
	if !lst.sized {
		if err := b.sizeMessages(ctx, fresh, len(msgs)); err != nil {
			return nil, nil, false, err
		}
	}
	b.debugUIDs(msgs, old, fresh)
	b.Engine.Count(len(msgs), len(old), "", total)
	return fresh, old, !b.Check, nil
}

// KeepOld: a POP3 server keeps no flags; nothing to do.
func (b *Box) KeepOld(context.Context, []mailbox.Message) error { return nil }

// LeftBehind: the next POP3 session lists them again by UID.
func (b *Box) LeftBehind(...mailbox.Message) {}

// Seen: POP3 has no \Seen flag.
func (b *Box) Seen(context.Context, []mailbox.Message) error { return nil }

// End: QUIT is Finish, after the engine's poll.
func (b *Box) End(context.Context) error { return nil }

// Retrieve keeps retrWindow RETRs in flight on the connection and ends a
// batch whenever the engine says it is due (Engine.BatchDue).
func (b *Box) Retrieve(ctx context.Context, want []mailbox.Message) error {
	log := b.Log
	nums := make([]int, len(want))
	byNum := make(map[mailbox.Num]mailbox.Message, len(want))
	for i, m := range want {
		nums[i] = int(m.Num)
		byNum[m.Num] = m
	}
	p := b.Client.RetrPipeline(ctx, nums, b.retrWindow(want))
	for {
		num, rd, err := p.Next()
		var perr *pop3.Error
		if errors.As(err, &perr) {
			b.Engine.Skipped()
			log.Error(fmt.Sprintf("message %s:%d could not be retrieved, left on the server: %v", b.Label, num, err))
			b.Engine.Progress(0)
			continue
		}
		if err != nil {
			return err
		}
		if rd == nil {
			break
		}
		m := byNum[mailbox.Num(num)]
		d, err := b.Engine.Receive(ctx, m, rd)
		if err == nil {
			err = d.Commit()
		}
		rd.Close()
		b.Engine.Progress(rd.Bytes())
		if err != nil {
			if err := b.Engine.Failed(ctx, m, err); err != nil {
				return err
			}
			continue
		}
		if b.Engine.BatchDue() {
			if err := b.Engine.EndBatch(ctx); err != nil {
				return err
			}
		}
	}
	return b.Engine.EndBatch(ctx)
}

// Settle sends the DELEs of every message marked for deletion once the
// retrieval is over (final): delivered and recorded in this poll, or
// recorded by an earlier one. They take effect at QUIT (Finish).
func (b *Box) Settle(ctx context.Context, marked []mailbox.Message, final bool) error {
	b.marked = append(b.marked, marked...)
	if !final || len(b.marked) == 0 {
		return nil
	}
	nums := make([]int, len(b.marked))
	for i, m := range b.marked {
		nums[i] = int(m.Num)
	}
	if err := b.Client.DeleMany(ctx, nums, b.window()); err != nil {
		return err
	}
	b.deleted = append(b.deleted, b.marked...)
	b.marked = b.marked[:0]
	return nil
}

// Finish sends QUIT (which expunges the DELEd messages) and then forgets
// the UIDs of the deleted messages.
func (b *Box) Finish(ctx context.Context) error {
	if err := b.Client.Quit(ctx); err != nil {
		// The DELEs may not have been applied; their UIDs stay recorded so
		// the next poll deletes them without delivering them again.
		return err
	}
	if err := b.Engine.Expunged(b.deleted); err != nil { // applied by the QUIT just answered
		return err
	}
	gone := 0
	for _, m := range b.deleted {
		if m.Entry != "" {
			gone++
		}
	}
	b.debugQuit(gone)
	return nil
}

// window is how many short commands (LIST n, DELE) go out in one write
// under RFC 2449 PIPELINING: enough that a round trip is paid once per few
// hundred messages, few enough that their replies (some 30 bytes each)
// never fill the socket buffers while the commands are being written.
// Without PIPELINING, one.
func (b *Box) window() int {
	if b.Caps.Has("PIPELINING") {
		return 256
	}
	return 1
}

// retrWindow is how many RETR commands are kept in flight: the server
// streams that many messages without waiting for the client, so that it
// never idles while the client writes a message out. About 1 MiB of
// messages (by their LIST sizes), between 16 and 128 commands: 128 small
// messages keep a server busy through the client's slower moments (a file
// creation, a commit), and a few large ones are as much as it can send
// ahead anyway, while a poll that stops early has fewer replies to drain.
// Without PIPELINING, one.
func (b *Box) retrWindow(want []mailbox.Message) int {
	if !b.Caps.Has("PIPELINING") {
		return 1
	}
	return retrWindowFor(want)
}

func retrWindowFor(want []mailbox.Message) int {
	var total int64
	for _, m := range want {
		total += max(m.Size, 0)
	}
	avg := int64(1)
	if len(want) > 0 {
		avg = max(total/int64(len(want)), 1)
	}
	return int(min(max((1<<20)/avg, 16), 128))
}

package imapbox

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/gofetchmail/gofetchmail/imap"
	"github.com/gofetchmail/gofetchmail/mailbox"
)

// Options is what an IMAP mailbox is given beyond mailbox.Config.
type Options struct {
	Session *imap.Session // logged in
	Folder  string
	Limit   int // the rc limit: a literal larger than this is skipped; 0: none
	// Expunge is the rc expunge option (ExpungeSet: given at all): expunge
	// after every N deletions, 0 only at the end of the folder; unset,
	// after every batch.
	Expunge    int
	ExpungeSet bool
}

// Box is one IMAP folder as a mailbox (package doc). Config.Key is the
// folder's (StateKey).
type Box struct {
	mailbox.Config
	Options
	validity uint32 // the folder's UIDVALIDITY
	track    bool   // UID state is kept (the folder has a UIDVALIDITY)
	st       folderState
	unseen   []mailbox.UID // not \Seen, when listed (KeepOld)
	sizes    map[uint32]int64
	left     mailbox.UID       // the lowest UID wanted but not delivered: the watermark
	marked   []mailbox.Message // stored \Deleted, not yet expunged
	// shared: the server gave several messages of the folder one UID
	// (its listing shows a UID twice, or it sent a body no UID FETCH
	// claimed). From then on nothing is flagged or expunged in the folder
	// in this poll: a STORE or EXPUNGE by UID would also hit a message
	// whose body was not delivered. The UIDs in question are not
	// recorded.
	shared   bool
	sharedID map[mailbox.UID]bool // those UIDs (0: unknown, all of them)
}

// New returns the mailbox of folder o.Folder of the session o.Session is
// logged in to. It does no I/O.
func New(c mailbox.Config, o Options) *Box {
	return &Box{Config: c, Options: o}
}

// Protocol names IMAP in the Received header.
func (b *Box) Protocol() string { return "IMAP" }

// List selects the folder (EXAMINE under --check) and lists it against
// its UID state (state.go): the unseen messages, and those at or above the
// watermark, that are not recorded (all undeleted ones with fetchall).
func (b *Box) List(ctx context.Context) (fresh, old []mailbox.Message, proceed bool, err error) {
	log := b.Log
	sess := b.Session
	folder := b.Folder
	mb, err := sess.Select(ctx, folder, b.Check)
	if err != nil {
		return nil, nil, false, err
	}
	sess.StrayBodies() // what came before this folder is not its own
	b.validity = mb.UIDValidity
	b.track = mb.UIDValidity != 0
	if !b.track {
		log.Warn(fmt.Sprintf("%s: folder %s has no UIDVALIDITY; no UID state is kept for it (only \\Seen tells what is new)", b.Label, folder))
	}
	st := loadState(b.UIDs, b.Key, mb.UIDValidity)
	if len(st.stale) > 0 && !b.Check {
		if st.oldValid != 0 {
			log.Warn(fmt.Sprintf("%s: the UIDVALIDITY of folder %s changed from %d to %d: the mailbox was rebuilt on the server; %d recorded UIDs forgotten, unseen messages are fetched", b.Label, folder, st.oldValid, mb.UIDValidity, len(st.stale)))
		}
		b.UIDs.Remove(b.Key, st.stale...)
	}
	b.st = st
	next := mb.UIDNext
	if mb.Exists == 0 {
		b.Engine.NoMail(folder)
		if !b.Check {
			b.UIDs.Remove(b.Key, recordedEntries(mb.UIDValidity, slices.Collect(maps.Keys(st.recorded)))...)
			return nil, nil, false, b.saveWatermark(st, mailbox.UID(next))
		}
		return nil, nil, false, nil
	}
	// The listing, not EXISTS, says which messages there are.
	all, err := sess.ListUIDs(ctx)
	var refused *imap.Error
	if errors.As(err, &refused) {
		// "FETCH 1:*" refused (a server that counted messages it does
		// not have): UID SEARCH ALL lists them, duplicates folded.
		log.Debug("FETCH 1:* (UID) refused; listing with UID SEARCH ALL", "poll", b.Label, "err", err)
		all, err = sess.Search(ctx, imap.Query{})
	}
	if err != nil {
		return nil, nil, false, err
	}
	present := make(map[uint32]bool, len(all))
	var twice []mailbox.UID
	var top uint32
	for _, x := range all {
		if present[x] {
			twice = append(twice, mailbox.UID(x))
		}
		present[x] = true
		top = max(top, x)
	}
	if next == 0 && len(all) > 0 {
		next = top + 1
	}
	if len(twice) > 0 {
		b.sharedUIDs(fmt.Sprintf("its listing gives %d messages a UID another one has", len(twice)), twice)
	}
	var cand, unseen []uint32
	if b.Fetchall {
		cand, err = sess.Search(ctx, imap.Query{Undeleted: true})
	} else {
		unseen, err = sess.Search(ctx, imap.Query{Unseen: true, Undeleted: true})
		cand = slices.Clone(unseen)
		if err == nil && st.next > 0 && b.track {
			var newer []uint32
			newer, err = sess.Search(ctx, imap.Query{FromUID: st.next, Undeleted: true})
			cand = append(cand, newer...)
			slices.Sort(cand)
			cand = slices.Compact(cand)
		}
	}
	if err != nil {
		return nil, nil, false, err
	}
	for _, x := range unseen {
		b.unseen = append(b.unseen, mailbox.UID(x))
	}
	var oldUIDs, freshUIDs []uint32
	for x := range st.recorded {
		if present[x] && !b.sharedID[mailbox.UID(x)] {
			oldUIDs = append(oldUIDs, x)
		}
	}
	slices.Sort(oldUIDs)
	for _, x := range cand {
		if st.recorded[x] && !b.Fetchall && !b.sharedID[mailbox.UID(x)] {
			continue
		}
		if !present[x] {
			continue // a SEARCH answer naming a message the listing has not
		}
		freshUIDs = append(freshUIDs, x)
	}
	sizes, err := sess.Sizes(ctx, freshUIDs)
	if err != nil {
		return nil, nil, false, err
	}
	b.sizes = sizes
	for _, x := range freshUIDs {
		fresh = append(fresh, mailbox.Message{UID: mailbox.UID(x), Entry: b.entry(mailbox.UID(x)), Size: sizes[x]})
	}
	if int(mb.Exists) != len(all) {
		log.Warn(fmt.Sprintf("%s: folder %s: the server's EXISTS counts %d messages but it lists %d; only the listed messages are considered", b.Label, folder, mb.Exists, len(all)))
	}
	seen := len(all) - len(freshUIDs)
	b.Engine.Count(len(all), seen, folder, -1) // as fetchmail: no size for IMAP
	if b.Check {
		return fresh, nil, false, nil
	}
	// Recorded UIDs the server no longer has were expunged by someone else.
	var gone []uint32
	for x := range st.recorded {
		if !present[x] {
			gone = append(gone, x)
		}
	}
	b.UIDs.Remove(b.Key, recordedEntries(mb.UIDValidity, gone)...)
	b.left = mailbox.UID(next)
	for _, x := range oldUIDs {
		old = append(old, mailbox.Message{UID: mailbox.UID(x), Entry: Entry(mb.UIDValidity, x)})
	}
	return fresh, old, true, nil
}

// entry is the idfile entry of message x, or "" when it cannot be
// recorded (no UIDVALIDITY, or a UID the server gives another message).
func (b *Box) entry(x mailbox.UID) string {
	if !b.track || b.sharedID[x] || b.sharedID[0] {
		return ""
	}
	return Entry(b.validity, uint32(x))
}

// KeepOld: delivered by an earlier poll and kept, but still unseen (that
// poll broke off before its STORE): marked \Seen now.
func (b *Box) KeepOld(ctx context.Context, _ []mailbox.Message) error {
	var unmarked []mailbox.Message
	for _, x := range b.unseen {
		if b.st.recorded[uint32(x)] {
			unmarked = append(unmarked, mailbox.Message{UID: x})
		}
	}
	return b.store(ctx, unmarked, imap.FlagSeen)
}

// LeftBehind lowers the watermark to the lowest UID left on the server.
func (b *Box) LeftBehind(ms ...mailbox.Message) {
	for _, m := range ms {
		b.left = min(b.left, m.UID)
	}
}

// Seen marks kept messages \Seen: fetchmail marks a kept message \Seen by
// fetching it; BODY.PEEK does not, so it is marked once its delivery is
// durable.
func (b *Box) Seen(ctx context.Context, kept []mailbox.Message) error {
	return b.store(ctx, kept, imap.FlagSeen)
}

// End records that every UID below the watermark was considered.
func (b *Box) End(context.Context) error {
	return b.saveWatermark(loadState(b.UIDs, b.Key, b.validity), b.left)
}

// Retrieve fetches want in batches of Config.BatchSize: one streamed UID
// FETCH per batch, then the batch ends (Engine.EndBatch).
//
// A message is committed to its target only once the server's response
// that carried it parsed to its end (imap.Session.FetchStaged): a literal
// shorter than the message, followed by the rest of it, is a protocol
// error, and nothing of that message is delivered. The literal, not
// RFC822.SIZE, is the message's size: limit applies to it.
func (b *Box) Retrieve(ctx context.Context, want []mailbox.Message) error {
	log := b.Log
	batch := b.BatchSize
	for i := 0; i < len(want); i += batch {
		part := want[i:min(i+batch, len(want))]
		uids := make([]uint32, len(part))
		for j, m := range part {
			uids[j] = uint32(m.UID)
		}
		answered := 0
		err := b.Session.FetchStaged(ctx, uids, func(body imap.Body) (imap.Pending, error) {
			answered++
			x := mailbox.UID(body.UID)
			m := mailbox.Message{UID: x, Entry: b.entry(x), Size: body.Size}
			if b.Limit > 0 && body.Size > int64(b.Limit) {
				// RFC822.SIZE said it fits; the literal says otherwise.
				b.Engine.Skipped()
				log.Info(fmt.Sprintf("skipping message %s:%d (%d octets) (oversized; RFC822.SIZE said %d)", b.Label, body.UID, body.Size, b.sizes[body.UID]))
				return nil, nil
			}
			lf := newCRLFReader(body.R)
			d, err := b.Engine.Receive(ctx, m, lf)
			read := lf.n
			lf.release()
			b.Engine.Progress(read)
			if err != nil {
				return nil, b.Engine.Failed(ctx, m, err)
			}
			return &staged{b: b, ctx: ctx, m: m, d: d}, nil
		})
		if n := len(part) - answered; n > 0 && err == nil {
			log.Warn(fmt.Sprintf("%s: the server sent no message body for %d of the %d messages asked for; they stay on the server", b.Label, n, len(part)))
		}
		b.checkStray()
		if err != nil {
			return err
		}
		if err := b.Engine.EndBatch(ctx); err != nil {
			return err
		}
	}
	return nil
}

// staged is a message handed to the engine, committed by FetchStaged once
// its response is complete.
type staged struct {
	b   *Box
	ctx context.Context
	m   mailbox.Message
	d   mailbox.Delivery
}

// Commit commits the delivery, unrecorded if the server gave its UID to
// another message meanwhile.
func (p *staged) Commit() error {
	b := p.b
	b.checkStray()
	if b.sharedID[0] || b.sharedID[p.m.UID] {
		p.m.Entry = "" // another message has its UID: not recorded
		p.d.Unrecord()
	}
	err := p.d.Commit()
	if err == nil {
		return nil
	}
	return b.Engine.Failed(p.ctx, p.m, err)
}

// Abort drops the delivery.
func (p *staged) Abort() { p.d.Abort() }

// sharedUIDs notes that the server gives several messages of the folder
// one UID (uids; 0 for "which is unknown"): from now on nothing in the
// folder is flagged or expunged in this poll, and those UIDs are not
// recorded. It says so once per folder and poll.
func (b *Box) sharedUIDs(why string, uids []mailbox.UID) {
	if b.sharedID == nil {
		b.sharedID = map[mailbox.UID]bool{}
	}
	for _, x := range uids {
		b.sharedID[x] = true
	}
	if !b.shared {
		b.shared = true // Settle drops what is marked for deletion
		b.Log.Error(fmt.Sprintf("%s: folder %s: the server's UIDs are not unique (%s); nothing is flagged or deleted on it in this poll, and messages whose UID is shared are delivered without being recorded", b.Label, b.Folder, why))
	}
}

// checkStray looks for bodies a UID FETCH dropped (a second message with a
// UID asked for, or one not asked for) and, if there are any, treats their
// UIDs as not unique: the pending messages with those UIDs (all pending
// ones, when which is unknown) are not recorded.
func (b *Box) checkStray() {
	n, uids := b.Session.StrayBodies()
	if n == 0 {
		return
	}
	var list []mailbox.UID
	for x := range uids {
		list = append(list, mailbox.UID(x))
	}
	b.sharedUIDs(fmt.Sprintf("it sent %d message bodies no UID FETCH claimed", n), list)
	b.Engine.Unrecord(func(m mailbox.Message) bool { return b.sharedID[0] || b.sharedID[m.UID] })
}

// store is Store, unless the server's UIDs are not unique.
func (b *Box) store(ctx context.Context, ms []mailbox.Message, flags ...string) error {
	if b.shared {
		return nil
	}
	uids := make([]uint32, len(ms))
	for i, m := range ms {
		uids[i] = uint32(m.UID)
	}
	return b.Session.Store(ctx, uids, flags...)
}

// Settle marks the messages marked for deletion \Seen \Deleted, and
// expunges as the expunge option says: after every N deletions, only at
// the end of the folder (expunge 0), or after every batch (unset: fetchmail
// expunges after every deletion). The idfile entries of expunged messages
// are then forgotten.
func (b *Box) Settle(ctx context.Context, del []mailbox.Message, final bool) error {
	if b.shared {
		// Their UIDs stay recorded: a later poll deletes them, once the
		// server's UIDs are unique again.
		return nil
	}
	if len(del) > 0 {
		if err := b.store(ctx, del, imap.FlagSeen, imap.FlagDeleted); err != nil {
			return err
		}
		b.marked = append(b.marked, del...)
	}
	n := len(b.marked)
	if n == 0 {
		return nil
	}
	due := final || !b.ExpungeSet || (b.Expunge > 0 && n >= b.Expunge)
	if !due {
		return nil
	}
	uids := make([]uint32, n)
	for i, m := range b.marked {
		uids[i] = uint32(m.UID)
	}
	if err := b.Session.Expunge(ctx, uids); err != nil {
		// Their UIDs stay recorded: the next poll deletes them again
		// without delivering them.
		return err
	}
	err := b.Engine.Expunged(b.marked)
	b.marked = b.marked[:0]
	return err
}

func recordedEntries(validity uint32, uids []uint32) []string {
	out := make([]string, len(uids))
	for i, x := range uids {
		out[i] = Entry(validity, x)
	}
	return out
}

// saveWatermark records that every UID below next was considered.
func (b *Box) saveWatermark(st folderState, next mailbox.UID) error {
	if b.track && next > 0 {
		if w := Watermark(b.validity, uint32(next)); w != st.nextEntry {
			if st.nextEntry != "" {
				b.UIDs.Remove(b.Key, st.nextEntry)
			}
			b.UIDs.Add(b.Key, w)
		}
	}
	return b.Engine.SaveUIDs()
}

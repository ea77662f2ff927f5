package fetch

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/gofetchmail/gofetchmail/imap"
)

// imapBox is one IMAP folder as a mailbox, retrieved as fetchmail does it
// (unseen messages unless fetchall, \Seen with keep, \Deleted and EXPUNGE
// otherwise) plus UID and UIDVALIDITY tracking (imap_state.go). A message
// is marked \Deleted only after its batch is durable and recorded, and its
// UID is forgotten only after the EXPUNGE.
type imapBox struct {
	s        *session
	folder   string
	validity uint32 // the folder's UIDVALIDITY
	track    bool   // UID state is kept (the folder has a UIDVALIDITY)
	st       imapFolderState
	unseen   []imapUID // not \Seen, when listed (keepOld)
	sizes    map[uint32]int64
	left     imapUID   // the lowest UID wanted but not delivered: the watermark
	marked   []message // stored \Deleted, not yet expunged
	// shared: the server gave several messages of the folder one UID
	// (its listing shows a UID twice, or it sent a body no UID FETCH
	// claimed). From then on nothing is flagged or expunged in the folder
	// in this poll: a STORE or EXPUNGE by UID would also hit a message
	// whose body was not delivered. The UIDs in question are not
	// recorded.
	shared   bool
	sharedID map[imapUID]bool // those UIDs (0: unknown, all of them)
}

func (b *imapBox) protocol() string { return "IMAP" }

func (b *imapBox) list(ctx context.Context) (fresh, old []message, proceed bool, err error) {
	s := b.s
	log := s.opts.logger()
	sess := s.imap
	u := s.job.User
	folder := b.folder
	mb, err := sess.Select(ctx, folder, s.opts.Check)
	if err != nil {
		return nil, nil, false, err
	}
	s.key = imapStateKey(AccountKey(u.Remotename, queryName(s.job.Server)), folder)
	s.folder = folder
	if s.commit != nil {
		s.commit.Bind(s.key) // batches never span folders
	}
	sess.StrayBodies() // what came before this folder is not its own
	b.validity = mb.UIDValidity
	b.track = mb.UIDValidity != 0
	if !b.track {
		log.Warn(fmt.Sprintf("%s: folder %s has no UIDVALIDITY; no UID state is kept for it (only \\Seen tells what is new)", s.label, folder))
	}
	st := loadIMAPState(s.uids, s.key, mb.UIDValidity)
	if len(st.stale) > 0 && !s.opts.Check {
		if st.oldValid != 0 {
			log.Warn(fmt.Sprintf("%s: the UIDVALIDITY of folder %s changed from %d to %d: the mailbox was rebuilt on the server; %d recorded UIDs forgotten, unseen messages are fetched", s.label, folder, st.oldValid, mb.UIDValidity, len(st.stale)))
		}
		s.uids.Remove(s.key, st.stale...)
	}
	b.st = st
	next := mb.UIDNext
	if mb.Exists == 0 {
		s.logNoMail(s.mailboxName(folder))
		if !s.opts.Check {
			s.uids.Remove(s.key, recordedEntries(mb.UIDValidity, slices.Collect(maps.Keys(st.recorded)))...)
			return nil, nil, false, b.saveWatermark(st, imapUID(next))
		}
		return nil, nil, false, nil
	}
	// The listing, not EXISTS, says which messages there are.
	all, err := sess.ListUIDs(ctx)
	var refused *imap.Error
	if errors.As(err, &refused) {
		// "FETCH 1:*" refused (a server that counted messages it does
		// not have): UID SEARCH ALL lists them, duplicates folded.
		log.Debug("FETCH 1:* (UID) refused; listing with UID SEARCH ALL", "poll", s.label, "err", err)
		all, err = sess.Search(ctx, imap.Query{})
	}
	if err != nil {
		return nil, nil, false, err
	}
	present := make(map[uint32]bool, len(all))
	var twice []imapUID
	var top uint32
	for _, x := range all {
		if present[x] {
			twice = append(twice, imapUID(x))
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
	if u.Fetchall {
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
		b.unseen = append(b.unseen, imapUID(x))
	}
	var oldUIDs, freshUIDs []uint32
	for x := range st.recorded {
		if present[x] && !b.sharedID[imapUID(x)] {
			oldUIDs = append(oldUIDs, x)
		}
	}
	slices.Sort(oldUIDs)
	for _, x := range cand {
		if st.recorded[x] && !u.Fetchall && !b.sharedID[imapUID(x)] {
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
	s.res.Waiting += len(freshUIDs)
	if int(mb.Exists) != len(all) {
		log.Warn(fmt.Sprintf("%s: folder %s: the server's EXISTS counts %d messages but it lists %d; only the listed messages are considered", s.label, folder, mb.Exists, len(all)))
	}
	seen := len(all) - len(freshUIDs)
	log.Info(countLine(len(all), seen, s.mailboxName(folder), -1)) // as fetchmail: no size for IMAP
	if s.opts.Check {
		return nil, nil, false, nil
	}
	// Recorded UIDs the server no longer has were expunged by someone else.
	var gone []uint32
	for x := range st.recorded {
		if !present[x] {
			gone = append(gone, x)
		}
	}
	s.uids.Remove(s.key, recordedEntries(mb.UIDValidity, gone)...)
	b.left = imapUID(next)
	for _, x := range oldUIDs {
		old = append(old, message{iuid: imapUID(x), uid: imapEntry(mb.UIDValidity, x)})
	}
	for _, x := range freshUIDs {
		fresh = append(fresh, message{iuid: imapUID(x), uid: b.entry(imapUID(x)), size: sizes[x]})
	}
	return fresh, old, true, nil
}

// entry is the idfile entry of message x, or "" when it cannot be
// recorded (no UIDVALIDITY, or a UID the server gives another message).
func (b *imapBox) entry(x imapUID) string {
	if !b.track || b.sharedID[x] || b.sharedID[0] {
		return ""
	}
	return imapEntry(b.validity, uint32(x))
}

// keepOld: delivered by an earlier poll and kept, but still unseen (that
// poll broke off before its STORE): marked \Seen now.
func (b *imapBox) keepOld(ctx context.Context, _ []message) error {
	var unmarked []message
	for _, x := range b.unseen {
		if b.st.recorded[uint32(x)] {
			unmarked = append(unmarked, message{iuid: x})
		}
	}
	return b.store(ctx, unmarked, imap.FlagSeen)
}

func (b *imapBox) leftBehind(ms ...message) {
	for _, m := range ms {
		b.left = min(b.left, m.iuid)
	}
}

// seen marks kept messages \Seen: fetchmail marks a kept message \Seen by
// fetching it; BODY.PEEK does not, so it is marked once its delivery is
// durable.
func (b *imapBox) seen(ctx context.Context, kept []message) error {
	return b.store(ctx, kept, imap.FlagSeen)
}

// end records that every UID below the watermark was considered.
func (b *imapBox) end(context.Context) error {
	return b.saveWatermark(loadIMAPState(b.s.uids, b.s.key, b.validity), b.left)
}

// retrieve fetches want in batches of Options.BatchSize: one streamed UID
// FETCH per batch, then the batch is committed (session.endBatch).
//
// A message is committed to its target only once the server's response
// that carried it parsed to its end (imap.Session.FetchStaged): a literal
// shorter than the message, followed by the rest of it, is a protocol
// error, and nothing of that message is delivered. The literal, not
// RFC822.SIZE, is the message's size: limit applies to it.
func (b *imapBox) retrieve(ctx context.Context, want []message) error {
	s := b.s
	u := s.job.User
	log := s.opts.logger()
	batch := s.opts.batchSize()
	for i := 0; i < len(want); i += batch {
		part := want[i:min(i+batch, len(want))]
		uids := make([]uint32, len(part))
		for j, m := range part {
			uids[j] = uint32(m.iuid)
		}
		answered := 0
		err := s.imap.FetchStaged(ctx, uids, func(body imap.Body) (imap.Pending, error) {
			answered++
			x := imapUID(body.UID)
			m := message{iuid: x, uid: b.entry(x), size: body.Size}
			if u.Limit > 0 && body.Size > int64(u.Limit) {
				// RFC822.SIZE said it fits; the literal says otherwise.
				s.idx++
				log.Info(fmt.Sprintf("skipping message %s:%d (%d octets) (oversized; RFC822.SIZE said %d)", s.label, body.UID, body.Size, b.sizes[body.UID]))
				s.res.Skipped++
				return nil, nil
			}
			cr := &countingReader{r: body.R}
			lf := newCRLFReader(cr)
			st, err := s.receive(ctx, m, lf)
			lf.release()
			s.progress(cr.n)
			if err != nil {
				return nil, s.failed(ctx, m, err)
			}
			return &imapStaged{b: b, st: st}, nil
		})
		if n := len(part) - answered; n > 0 && err == nil {
			log.Warn(fmt.Sprintf("%s: the server sent no message body for %d of the %d messages asked for; they stay on the server", s.label, n, len(part)))
		}
		b.checkStray()
		if err != nil {
			return err
		}
		if err := s.endBatch(ctx); err != nil {
			return err
		}
	}
	return nil
}

// imapStaged is a staged IMAP message, committed by FetchStaged once its
// response is complete.
type imapStaged struct {
	b  *imapBox
	st *staged
}

func (p *imapStaged) Commit() error {
	b, st := p.b, p.st
	b.checkStray()
	if b.sharedID[0] || b.sharedID[st.m.iuid] {
		st.m.uid = "" // another message has its UID: not recorded
	}
	err := st.commit()
	if err == nil {
		return nil
	}
	return b.s.failed(st.ctx, st.m, err)
}

func (p *imapStaged) Abort() { p.st.abort() }

// sharedUIDs notes that the server gives several messages of the folder
// one UID (uids; 0 for "which is unknown"): from now on nothing in the
// folder is flagged or expunged in this poll, and those UIDs are not
// recorded. It says so once per folder and poll.
func (b *imapBox) sharedUIDs(why string, uids []imapUID) {
	s := b.s
	if b.sharedID == nil {
		b.sharedID = map[imapUID]bool{}
	}
	for _, x := range uids {
		b.sharedID[x] = true
	}
	if !b.shared {
		b.shared = true
		s.toDelete = s.toDelete[:0]
		s.opts.logger().Error(fmt.Sprintf("%s: folder %s: the server's UIDs are not unique (%s); nothing is flagged or deleted on it in this poll, and messages whose UID is shared are delivered without being recorded", s.label, b.folder, why))
	}
}

// checkStray looks for bodies a UID FETCH dropped (a second message with a
// UID asked for, or one not asked for) and, if there are any, treats their
// UIDs as not unique: the pending messages with those UIDs (all pending
// ones, when which is unknown) are not recorded.
func (b *imapBox) checkStray() {
	s := b.s
	n, uids := s.imap.StrayBodies()
	if n == 0 {
		return
	}
	var list []imapUID
	for x := range uids {
		list = append(list, imapUID(x))
	}
	b.sharedUIDs(fmt.Sprintf("it sent %d message bodies no UID FETCH claimed", n), list)
	for i, p := range s.pending {
		if b.sharedID[0] || b.sharedID[p.iuid] {
			s.pending[i].uid = ""
		}
	}
}

// store is Store, unless the server's UIDs are not unique.
func (b *imapBox) store(ctx context.Context, ms []message, flags ...string) error {
	if b.shared {
		return nil
	}
	uids := make([]uint32, len(ms))
	for i, m := range ms {
		uids[i] = uint32(m.iuid)
	}
	return b.s.imap.Store(ctx, uids, flags...)
}

// settle marks the messages marked for deletion \Seen \Deleted, and
// expunges as the expunge option says: after every N deletions, only at
// the end of the folder (expunge 0), or after every batch (unset: fetchmail
// expunges after every deletion). The idfile entries of expunged messages
// are then forgotten.
func (b *imapBox) settle(ctx context.Context, final bool) error {
	s := b.s
	u := s.job.User
	if b.shared {
		// Their UIDs stay recorded: a later poll deletes them, once the
		// server's UIDs are unique again.
		s.toDelete = s.toDelete[:0]
		return nil
	}
	if len(s.toDelete) > 0 {
		if err := b.store(ctx, s.toDelete, imap.FlagSeen, imap.FlagDeleted); err != nil {
			return err
		}
		b.marked = append(b.marked, s.toDelete...)
		s.toDelete = s.toDelete[:0]
	}
	n := len(b.marked)
	if n == 0 {
		return nil
	}
	due := final || !u.ExpungeSet || (u.Expunge > 0 && n >= u.Expunge)
	if !due {
		return nil
	}
	uids := make([]uint32, n)
	var entries []string
	for i, m := range b.marked {
		uids[i] = uint32(m.iuid)
		if m.uid != "" {
			entries = append(entries, m.uid)
		}
	}
	if err := s.imap.Expunge(ctx, uids); err != nil {
		// Their UIDs stay recorded: the next poll deletes them again
		// without delivering them.
		return err
	}
	s.res.Deleted += n
	s.opts.logger().Info(fmt.Sprintf("%d messages deleted on %s", n, s.job.Server.Pollname))
	s.uids.Remove(s.key, entries...)
	b.marked = b.marked[:0]
	if err := s.uids.Save(); err != nil {
		return &Error{Poll: s.label, Status: StatusIOErr, Err: err}
	}
	return nil
}

func recordedEntries(validity uint32, uids []uint32) []string {
	out := make([]string, len(uids))
	for i, x := range uids {
		out[i] = imapEntry(validity, x)
	}
	return out
}

// saveWatermark records that every UID below next was considered.
func (b *imapBox) saveWatermark(st imapFolderState, next imapUID) error {
	s := b.s
	if b.track && next > 0 {
		if w := imapWatermark(b.validity, uint32(next)); w != st.nextEntry {
			if st.nextEntry != "" {
				s.uids.Remove(s.key, st.nextEntry)
			}
			s.uids.Add(s.key, w)
		}
	}
	if err := s.uids.Save(); err != nil {
		return &Error{Poll: s.label, Status: StatusIOErr, Err: err}
	}
	return nil
}

package fetch

import (
	"context"
	"errors"
	"fmt"

	"github.com/gofetchmail/gofetchmail/pop3"
)

// pop3Box is the mailbox of one POP3 session (RFC 1939): STAT, UIDL and
// LIST list it (pop3box_list.go), RETR pipelined streams it, DELE marks
// and QUIT expunges. Deletions are final only at QUIT, so the DELEs go out
// after the retrieval (they must not cut into pipelined RETR replies) and
// the UIDs of deleted messages are forgotten only after QUIT answered.
// "expunge N" splits a poll into several such sessions (expunge.go).
type pop3Box struct {
	s       *session
	deleted []message // DELE'd in this session: final at QUIT
}

func (b *pop3Box) protocol() string { return "POP3" }

func (b *pop3Box) list(ctx context.Context) (fresh, old []message, proceed bool, err error) {
	s := b.s
	log := s.opts.logger()
	u := s.job.User
	count, total, err := s.client.Stat(ctx)
	if err != nil {
		return nil, nil, false, err
	}
	if count == 0 {
		s.logNoMail(s.mailboxName(""))
		s.uids.Retain(s.key, map[string]bool{})
		return nil, nil, false, nil
	}
	lst, err := s.listMessages(ctx, count)
	if err != nil {
		return nil, nil, false, err
	}
	msgs, times := lst.msgs, lst.times
	withUID := 0
	for _, m := range msgs {
		if m.uid != "" {
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
		if msgs[i].uid != "" && times[msgs[i].uid] > 1 {
			msgs[i].uid = ""
			dups++
		}
	}
	if dups > 0 {
		log.Warn(fmt.Sprintf("%s: the server gives %d messages a UID it also gives another; they are fetched as if they had none", s.label, dups))
	}
	listed := make([]string, len(msgs))
	for i := range msgs {
		listed[i] = msgs[i].uid
	}
	seen, all := s.uids.Lookup(s.key, listed)
	if lst.consistent && !all {
		times = lst.count()
		s.uids.RetainFunc(s.key, func(uid string) bool { return times[uid] > 0 })
	}
	old = make([]message, 0, s.uids.Len(s.key))
	for i, m := range msgs {
		if seen[i] && !u.Fetchall {
			old = append(old, m)
			continue
		}
		fresh = append(fresh, m)
	}
	fresh = s.sub.admit(fresh) // expunge N: not what an earlier session left
	if !lst.sized {
		if err := s.sizeMessages(ctx, fresh, len(msgs)); err != nil {
			return nil, nil, false, err
		}
	}
	s.debugUIDs(msgs, old, fresh)
	s.res.Waiting = len(fresh)
	log.Info(countLine(len(msgs), len(old), s.mailboxName(""), total))
	return fresh, old, !s.opts.Check, nil
}

// keepOld: a POP3 server keeps no flags; nothing to do.
func (b *pop3Box) keepOld(context.Context, []message) error { return nil }

// leftBehind: the next POP3 session lists them again by UID.
func (b *pop3Box) leftBehind(...message) {}

// seen: POP3 has no \Seen flag.
func (b *pop3Box) seen(context.Context, []message) error { return nil }

func (b *pop3Box) end(context.Context) error { return nil }

// retrieve keeps retrWindow RETRs in flight on the connection and commits
// a batch every Options.BatchSize delivered messages.
func (b *pop3Box) retrieve(ctx context.Context, want []message) error {
	s := b.s
	log := s.opts.logger()
	nums := make([]int, len(want))
	byNum := make(map[msgNum]message, len(want))
	for i, m := range want {
		nums[i] = int(m.num)
		byNum[m.num] = m
	}
	p := s.client.RetrPipeline(ctx, nums, b.retrWindow())
	for {
		num, rd, err := p.Next()
		var perr *pop3.Error
		if errors.As(err, &perr) {
			s.idx++
			log.Error(fmt.Sprintf("message %s:%d could not be retrieved, left on the server: %v", s.label, num, err))
			s.res.Skipped++
			s.progress(0)
			continue
		}
		if err != nil {
			return err
		}
		if rd == nil {
			break
		}
		m := byNum[msgNum(num)]
		st, err := s.receive(ctx, m, rd)
		if err == nil {
			err = st.commit()
		}
		rd.Close()
		s.progress(rd.Bytes())
		if err != nil {
			if err := s.failed(ctx, m, err); err != nil {
				return err
			}
			continue
		}
		if len(s.pending) >= s.opts.batchSize() {
			if err := s.endBatch(ctx); err != nil {
				return err
			}
		}
	}
	return s.endBatch(ctx)
}

// settle sends the DELEs of every message marked for deletion once the
// retrieval is over (final): delivered and recorded in this poll, or
// recorded by an earlier one. They take effect at QUIT (finish).
func (b *pop3Box) settle(ctx context.Context, final bool) error {
	s := b.s
	if !final || len(s.toDelete) == 0 {
		return nil
	}
	nums := make([]int, len(s.toDelete))
	for i, m := range s.toDelete {
		nums[i] = int(m.num)
	}
	if err := s.client.DeleMany(ctx, nums, b.window()); err != nil {
		return err
	}
	b.deleted = append(b.deleted, s.toDelete...)
	s.toDelete = s.toDelete[:0]
	return nil
}

// finish sends QUIT (which expunges the DELEd messages) and then forgets the
// UIDs of the deleted messages.
func (b *pop3Box) finish(ctx context.Context) error {
	s := b.s
	if err := s.client.Quit(ctx); err != nil {
		// The DELEs may not have been applied; their UIDs stay recorded so
		// the next poll deletes them without delivering them again.
		return err
	}
	s.res.Deleted = len(b.deleted) // applied by the QUIT just answered
	var gone []string
	for _, m := range b.deleted {
		if m.uid != "" {
			gone = append(gone, m.uid)
		}
	}
	if len(gone) > 0 {
		s.uids.Remove(s.key, gone...)
	}
	if err := s.uids.Save(); err != nil {
		return &Error{Poll: s.label, Status: StatusIOErr, Err: err}
	}
	s.debugQuit(len(gone))
	if s.res.Deleted > 0 {
		s.opts.logger().Info(fmt.Sprintf("%d messages deleted on %s", s.res.Deleted, s.job.Server.Pollname))
	}
	return nil
}

// window is how many short commands (LIST n, DELE) go out in one write
// under RFC 2449 PIPELINING: enough that a round trip is paid once per few
// hundred messages, few enough that their replies (some 30 bytes each)
// never fill the socket buffers while the commands are being written.
// Without PIPELINING, one.
func (b *pop3Box) window() int { return b.s.window() }

// retrWindow is how many RETR commands are kept in flight: the server
// streams that many messages without waiting for the client.
func (b *pop3Box) retrWindow() int {
	if b.s.caps.Has("PIPELINING") {
		return 32
	}
	return 1
}

// window is pop3Box.window (sizeMessages pipelines LIST n with it too).
func (s *session) window() int {
	if s.caps.Has("PIPELINING") {
		return 256
	}
	return 1
}

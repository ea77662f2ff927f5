package imap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Body is one message as FetchBodies streams it.
type Body struct {
	UID  uint32
	Seq  uint32    // its sequence number, as the server gave it
	Size int64     // the literal's size in octets
	R    io.Reader // the literal, read straight off the connection
}

// Pending is what a FetchStaged callback made of a body without making it
// final yet (a delivery staged, not committed).
type Pending interface {
	// Commit makes it final. An error ends the command, as one from the
	// callback does.
	Commit() error
	// Abort undoes it.
	Abort()
}

// FetchBodies is FetchStaged for a callback that has nothing to stage:
// what fn does with a body is final as soon as fn returns.
func (s *Session) FetchBodies(ctx context.Context, uids []uint32, fn func(Body) error) error {
	return s.FetchStaged(ctx, uids, func(b Body) (Pending, error) { return nil, fn(b) })
}

// FetchStaged fetches the whole messages uids with one UID FETCH
// BODY.PEEK[] (which leaves \Seen alone) and calls fn for each as it
// arrives, its literal streaming from the connection: nothing is held in
// memory. What fn leaves unread is skipped. An error from fn ends the
// command and closes the connection (the rest of the literals cannot be
// skipped cheaply); fn handles the failures it can survive itself.
//
// What fn returns as Pending is committed only once the response that
// carried the body is known to be complete, its closing parenthesis and
// line end parsed: when the next response of the command arrives, or its
// tagged status (OK, NO or BAD: a line that parsed). If the command ends
// any other way (an answer that does not parse, such as a literal shorter
// than the message followed by the rest of it; a cut connection; a
// timeout; an error from fn or from a Commit), it is aborted. So a body
// whose response a server garbled is never taken as a whole message.
//
// Only a body of the whole message (BODY[], the section asked for) is
// handed to fn; another section (BODY[HEADER], BODY[1], a partial
// BODY[]<0>) that a server sends in its place is skipped, as is a second
// body in the same response. A body that no command claimed (a second
// response for a UID already answered, a UID not asked for) is counted
// by StrayBodies.
//
// Options.Timeout bounds each stretch without progress, not the whole
// command, so a large message on a slow link is not cut off.
func (s *Session) FetchStaged(ctx context.Context, uids []uint32, fn func(Body) (Pending, error)) (err error) {
	if len(uids) == 0 {
		return nil
	}
	if err := s.start(); err != nil {
		return wrap("UID FETCH", err)
	}
	if s.killed.Load() {
		return &ProtocolError{Op: "UID FETCH", Msg: "the connection is closed"}
	}
	stop := context.AfterFunc(ctx, s.kill)
	defer stop()
	var idle *time.Timer
	if t := s.opts.Timeout; t > 0 {
		idle = time.AfterFunc(t, s.kill)
		defer idle.Stop()
	}
	progress := func() {
		if idle != nil {
			idle.Reset(s.opts.Timeout)
		}
	}
	var pending Pending // staged, waiting for the end of its response
	defer func() {
		if pending != nil {
			pending.Abort()
		}
	}()
	commit := func() error {
		p := pending
		pending = nil
		if p == nil {
			return nil
		}
		return p.Commit()
	}
	section := &goimap.FetchItemBodySection{Peek: true}
	cmd := s.client.Fetch(uidSet(uids), &goimap.FetchOptions{UID: true, BodySection: []*goimap.FetchItemBodySection{section}})
	var ferr error
	for ferr == nil {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		progress()
		// The decoder is on the next response: the previous one ended.
		if ferr = commit(); ferr != nil {
			break
		}
		var uid uint32
		bodies := 0
		for {
			item := msg.Next()
			if item == nil {
				break
			}
			switch it := item.(type) {
			case imapclient.FetchItemDataUID:
				uid = uint32(it.UID)
			case imapclient.FetchItemDataBodySection:
				if uid == 0 {
					ferr = &ProtocolError{Op: "UID FETCH", Msg: "the server sent a message body before its UID"}
					break
				}
				if !wholeMessage(it.Section) {
					continue // another section: not the message; skipped
				}
				if it.Literal == nil {
					continue // BODY[] NIL: the message is gone; nothing to deliver
				}
				if bodies++; bodies > 1 {
					s.stray.note(uid)
					continue
				}
				b := Body{UID: uid, Seq: msg.SeqNum, Size: it.Literal.Size()}
				b.R = &progressReader{r: it.Literal, tick: progress, want: b.Size}
				p, err := fn(b)
				pending = p
				if err != nil {
					ferr = err
				}
			}
			if ferr != nil {
				break
			}
		}
	}
	if ferr != nil {
		s.kill()
		return ferr
	}
	err = cmd.Close()
	var status *goimap.Error
	if err == nil || errors.As(err, &status) {
		// The tagged status parsed: so did the last response before it.
		if cerr := commit(); cerr != nil {
			s.kill()
			return cerr
		}
	}
	if !stop() && ctx.Err() != nil {
		return wrap("UID FETCH", errors.Join(ctx.Err(), err))
	}
	if err != nil && s.killed.Load() && ctx.Err() == nil {
		return wrap("UID FETCH", errors.Join(errNoProgress, err))
	}
	return s.classify("UID FETCH", err)
}

// wholeMessage reports whether a body section is BODY[] itself: no part,
// no specifier, no header list, not partial.
func wholeMessage(sec *goimap.FetchItemBodySection) bool {
	return sec != nil && sec.Specifier == goimap.PartSpecifierNone && len(sec.Part) == 0 &&
		len(sec.HeaderFields) == 0 && len(sec.HeaderFieldsNot) == 0 && sec.Partial == nil
}

// errNoProgress is the cause when Options.Timeout passed without data.
var errNoProgress = errors.New("timeout waiting for the server")

// progressReader reports every read (that returns data) to tick, and
// turns an end before want bytes (the connection broke inside the
// literal: imapclient then reports a plain EOF) into io.ErrUnexpectedEOF.
type progressReader struct {
	r    io.Reader
	tick func()
	want int64
	got  int64
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.got += int64(n)
	if n > 0 {
		p.tick()
	}
	if errors.Is(err, io.EOF) && p.got < p.want {
		err = fmt.Errorf("imap: the message ended after %d of its %d octets: %w", p.got, p.want, io.ErrUnexpectedEOF)
	}
	return n, err
}

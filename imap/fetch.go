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
	Size int64     // the literal's size in octets
	R    io.Reader // the literal, read straight off the connection
}

// FetchBodies fetches the whole messages uids with one UID FETCH
// BODY.PEEK[] (which leaves \Seen alone) and calls fn for each as it
// arrives, its literal streaming from the connection: nothing is held in
// memory. What fn leaves unread is skipped. An error from fn ends the
// command and closes the connection (the rest of the literals cannot be
// skipped cheaply); fn handles the failures it can survive itself.
//
// Options.Timeout bounds each stretch without progress, not the whole
// command, so a large message on a slow link is not cut off.
func (s *Session) FetchBodies(ctx context.Context, uids []uint32, fn func(Body) error) error {
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
	section := &goimap.FetchItemBodySection{Peek: true}
	cmd := s.client.Fetch(uidSet(uids), &goimap.FetchOptions{UID: true, BodySection: []*goimap.FetchItemBodySection{section}})
	var ferr error
	for ferr == nil {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		progress()
		var uid uint32
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
				if it.Literal == nil {
					continue // BODY[] NIL: the message is gone; nothing to deliver
				}
				b := Body{UID: uid, Size: it.Literal.Size()}
				b.R = &progressReader{r: it.Literal, tick: progress, want: b.Size}
				if err := fn(b); err != nil {
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
	err := cmd.Close()
	if !stop() && ctx.Err() != nil {
		return wrap("UID FETCH", errors.Join(ctx.Err(), err))
	}
	if err != nil && s.killed.Load() && ctx.Err() == nil {
		return wrap("UID FETCH", errors.Join(errNoProgress, err))
	}
	return wrap("UID FETCH", err)
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

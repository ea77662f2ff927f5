package imap

import (
	"context"
	"errors"
	"time"
)

// ErrClosedByServer is returned by Idle when the server ended the
// connection while idling.
var ErrClosedByServer = errors.New("imap: the server closed the connection during IDLE")

// Idle runs IDLE (RFC 2177) until the server reports new mail (EXISTS), max
// passes, or ctx ends, then sends DONE and waits for the answer. It reports
// whether new mail was announced. An EXISTS that came with an earlier
// command (mail that arrived during the caller's poll) makes it return
// true at once, without IDLE. A server that has no IDLE answers BAD:
// use Noop polling instead (see Caps).
func (s *Session) Idle(ctx context.Context, max time.Duration) (bool, error) {
	if err := s.start(); err != nil {
		return false, wrap("IDLE", err)
	}
	select { // announced during earlier commands (after their searches)
	case <-s.newMail:
		return true, nil
	default:
	}
	var cmd interface {
		Close() error
		Wait() error
	}
	if err := s.call(ctx, "IDLE", func() error {
		c, err := s.client.Idle()
		if err == nil {
			cmd = c
		}
		return err
	}); err != nil {
		return false, err
	}
	timer := time.NewTimer(max)
	defer timer.Stop()
	got := false
	select {
	case <-s.newMail:
		got = true
	case <-timer.C:
	case <-ctx.Done():
		s.kill()
		cmd.Close()
		return false, wrap("IDLE", ctx.Err())
	case <-s.client.Closed():
		cmd.Close()
		return false, ErrClosedByServer
	}
	err := s.call(ctx, "IDLE", func() error {
		if err := cmd.Close(); err != nil {
			return err
		}
		return cmd.Wait()
	})
	return got, err
}

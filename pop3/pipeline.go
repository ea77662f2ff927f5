package pop3

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// RFC 2449 PIPELINING lets a client send several commands before reading
// their replies. Over a link with any latency (an SSH channel, a distant
// server) this removes one round trip per message. The server must
// announce PIPELINING in CAPA; with window 1 the calls below behave like
// their one-command-at-a-time counterparts, so callers need no second path.

// sendBatch writes several command lines in one write.
func (c *Client) sendBatch(cmd string, lines []string) error {
	c.wbuf = c.wbuf[:0]
	for _, l := range lines {
		if strings.ContainsAny(l, "\r\n\x00") {
			return fmt.Errorf("pop3: %s: command contains CR, LF or NUL", cmd)
		}
		c.wbuf = append(append(c.wbuf, l...), '\r', '\n')
		if c.trace != nil {
			c.trace('>', l)
		}
	}
	return c.flushCommands(cmd)
}

// RetrPipeline retrieves messages in order with up to window RETR commands
// in flight. Each message's reader must be read to its end or closed
// before Next is called again, and Close must be called when the caller
// stops early, to read the replies still owed.
type RetrPipeline struct {
	c      *Client
	ctx    context.Context
	nums   []int
	window int
	sent   int // RETR commands written
	recv   int // replies read (status lines)
}

// RetrPipeline starts retrieving nums with up to window commands in flight
// (window < 1 means 1). It sends nothing until Next.
func (c *Client) RetrPipeline(ctx context.Context, nums []int, window int) *RetrPipeline {
	if window < 1 {
		window = 1
	}
	return &RetrPipeline{c: c, ctx: ctx, nums: nums, window: window}
}

// Next returns the next message number and its reader. A -ERR for that
// message is returned as *Error and the pipeline goes on with the next
// one; any other error leaves the session unusable. After the last
// message it returns 0, nil, nil.
func (p *RetrPipeline) Next() (int, *MessageReader, error) {
	if p.recv >= len(p.nums) {
		return 0, nil, nil
	}
	c := p.c
	unwatch, err := c.start(p.ctx, "RETR")
	if err != nil {
		return 0, nil, err
	}
	defer c.disarm()
	ok := false
	defer func() {
		if !ok {
			unwatch()
		}
	}()
	// Top the window up only when half of it has drained: commands go
	// out in batches of at least window/2 instead of one per message,
	// which over an SSH channel is one packet (and one wake-up of sshd
	// and of the server) per batch instead of per message.
	if p.sent < len(p.nums) && (p.sent == p.recv || p.sent-p.recv <= p.window/2) {
		var lines []string
		for p.sent+len(lines) < len(p.nums) && p.sent+len(lines)-p.recv < p.window {
			lines = append(lines, "RETR "+strconv.Itoa(p.nums[p.sent+len(lines)]))
		}
		if err := c.sendBatch("RETR", lines); err != nil {
			return 0, nil, err
		}
		p.sent += len(lines)
	}
	num := p.nums[p.recv]
	p.recv++
	if _, err := c.status("RETR", false); err != nil {
		return num, nil, err
	}
	m := newMessageReader(c.br)
	m.c, m.cmd, m.release = c, "RETR", unwatch
	c.reader = m
	ok = true
	return num, m, nil
}

// Close reads and discards the replies (and messages) still owed for
// commands already sent, so that the session can go on.
func (p *RetrPipeline) Close() error {
	for p.recv < p.sent {
		_, m, err := p.Next()
		var perr *Error
		switch {
		case errors.As(err, &perr):
			continue
		case err != nil:
			return err
		}
		if err := m.Close(); err != nil {
			return err
		}
	}
	return nil
}

// DeleMany marks the messages nums deleted, with up to window DELE
// commands in flight. It reads every reply and returns the first -ERR as
// *Error (the other messages are still marked); any other error leaves the
// session unusable.
func (c *Client) DeleMany(ctx context.Context, nums []int, window int) error {
	if window < 1 {
		window = 1
	}
	release, err := c.begin(ctx, "DELE")
	if err != nil {
		return err
	}
	defer release()
	var first error
	for i := 0; i < len(nums); i += window {
		chunk := nums[i:min(i+window, len(nums))]
		lines := make([]string, len(chunk))
		for j, n := range chunk {
			lines[j] = "DELE " + strconv.Itoa(n)
		}
		if err := c.sendBatch("DELE", lines); err != nil {
			return err
		}
		for range chunk {
			c.arm() // each reply gets the full timeout
			if _, err := c.status("DELE", false); err != nil {
				var perr *Error
				if !errors.As(err, &perr) {
					return err
				}
				if first == nil {
					first = err
				}
			}
		}
	}
	return first
}

// ListMany returns the sizes of the messages nums ("LIST n" for each), with
// up to window commands in flight. It is the cheap way to size a few new
// messages in a large mailbox, where a bare LIST would list every message.
// A -ERR for one message is returned as *Error after every reply was read;
// the sizes of the others are still returned.
func (c *Client) ListMany(ctx context.Context, nums []int, window int) ([]Size, error) {
	if window < 1 {
		window = 1
	}
	release, err := c.begin(ctx, "LIST")
	if err != nil {
		return nil, err
	}
	defer release()
	out := make([]Size, 0, len(nums))
	var first error
	for i := 0; i < len(nums); i += window {
		chunk := nums[i:min(i+window, len(nums))]
		lines := make([]string, len(chunk))
		for j, n := range chunk {
			lines[j] = "LIST " + strconv.Itoa(n)
		}
		if err := c.sendBatch("LIST", lines); err != nil {
			return nil, err
		}
		for _, want := range chunk {
			c.arm()
			r, err := c.status("LIST", false)
			if err != nil {
				var perr *Error
				if !errors.As(err, &perr) {
					return nil, err
				}
				if first == nil {
					first = err
				}
				continue
			}
			n, sz, err := twoNumbers([]byte(r.text))
			if err != nil {
				return nil, c.fail("LIST", err)
			}
			if int(n) != want {
				return nil, c.fail("LIST", &ProtocolError{Msg: fmt.Sprintf("LIST %d answered for message %d", want, n)})
			}
			out = append(out, Size{Num: want, Size: sz})
		}
	}
	return out, first
}

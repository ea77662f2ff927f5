package pop3

import (
	"bufio"
	"context"
	"io"
	"strconv"
)

// MessageReader streams one message from Retr or Top. It yields the
// message dot-unstuffed, with CRLF line endings turned into LF (a bare CR
// or bare LF from the server is passed through as is), 8-bit clean, NUL
// bytes included, lines of any length, in bounded memory. Read returns
// io.EOF after the terminating "." line and an error wrapping
// io.ErrUnexpectedEOF if the connection ends first. Until it has returned
// an error or been closed, the Client refuses other commands (ErrBusy).
//
// Each Read waits at most Options.Timeout for the server. A server that
// keeps sending is not bounded here: the caller caps the size it reads.
type MessageReader struct {
	br      *bufio.Reader
	c       *Client // nil when decoding a plain stream (tests, fuzzing)
	cmd     string
	release func() // stops watching ctx; nil when c is nil

	rest []byte // decoded bytes not yet delivered; a slice of br's buffer
	eol  bool   // after rest, deliver '\n' and start a new line
	cr   bool   // a CR ended a full buffer: it may be the first half of CRLF
	bol  bool   // at the beginning of a line: check for '.'
	n    int64  // bytes delivered
	err  error  // sticky: io.EOF at the end, or the failure
}

// crByte is delivered for a held-back CR that turned out to be bare.
var crByte = []byte{'\r'}

// newMessageReader decodes a dot-stuffed multi-line body from br.
func newMessageReader(br *bufio.Reader) *MessageReader {
	return &MessageReader{br: br, bol: true}
}

// Retr retrieves message n. The returned reader must be read to io.EOF or
// closed before the next command.
func (c *Client) Retr(ctx context.Context, n int) (*MessageReader, error) {
	return c.body(ctx, "RETR", "RETR "+strconv.Itoa(n))
}

// Top retrieves the header of message n and the first lines lines of its
// body, as a reader like Retr's.
func (c *Client) Top(ctx context.Context, n, lines int) (*MessageReader, error) {
	return c.body(ctx, "TOP", "TOP "+strconv.Itoa(n)+" "+strconv.Itoa(lines))
}

func (c *Client) body(ctx context.Context, cmd, line string) (*MessageReader, error) {
	// The ctx watch lives as long as the reader; the timeout is re-armed
	// by every Read.
	unwatch, err := c.start(ctx, cmd)
	if err != nil {
		return nil, err
	}
	defer c.disarm()
	ok := false
	defer func() {
		if !ok {
			unwatch()
		}
	}()
	if err := c.send(cmd, line, line); err != nil {
		return nil, err
	}
	if _, err := c.status(cmd, false); err != nil {
		return nil, err
	}
	m := newMessageReader(c.br)
	m.c, m.cmd, m.release = c, cmd, unwatch
	c.reader = m
	ok = true
	return m, nil
}

// Bytes returns the number of bytes Read has delivered so far.
func (m *MessageReader) Bytes() int64 { return m.n }

// Close reads and discards the rest of the message so that the session
// can go on. It returns nil if the message ended properly.
func (m *MessageReader) Close() error {
	if m.err == nil {
		n := m.n
		io.Copy(io.Discard, m)
		m.n = n
	}
	if m.err == io.EOF {
		return nil
	}
	return m.err
}

// Read implements io.Reader.
func (m *MessageReader) Read(p []byte) (int, error) {
	if m.c != nil && m.err == nil {
		m.c.arm()
		defer m.c.disarm()
	}
	n := 0
	for n < len(p) {
		if len(m.rest) > 0 {
			k := copy(p[n:], m.rest)
			m.rest = m.rest[k:]
			n += k
			continue
		}
		if m.eol {
			p[n] = '\n'
			n++
			m.eol, m.bol = false, true
			continue
		}
		if m.err != nil {
			break
		}
		if n > 0 && m.br.Buffered() == 0 {
			break // do not block while holding data
		}
		m.fill()
	}
	m.n += int64(n)
	if m.err != nil && len(m.rest) == 0 && !m.eol {
		return n, m.err
	}
	return n, nil
}

// fill decodes the next piece of input into rest/eol, or sets err. It only
// touches br when everything decoded before has been delivered, so rest
// stays valid.
func (m *MessageReader) fill() {
	if m.cr {
		m.cr = false
		b, err := m.br.Peek(1)
		if err == nil && b[0] == '\n' {
			m.br.Discard(1)
			m.eol = true
			return
		}
		m.rest = crByte
		if err != nil {
			m.setErr(err)
		}
		return
	}
	if m.bol {
		b, err := m.br.Peek(1)
		if err != nil {
			m.setErr(err)
			return
		}
		if b[0] == '.' {
			if b, _ := m.br.Peek(2); len(b) == 2 && b[1] == '\n' {
				m.br.Discard(2)
				m.finish()
				return
			} else if len(b) == 2 && b[1] == '\r' {
				if b, _ := m.br.Peek(3); len(b) == 3 && b[2] == '\n' {
					m.br.Discard(3)
					m.finish()
					return
				}
			}
			m.br.Discard(1) // unstuff
		}
		m.bol = false
	}
	line, err := m.br.ReadSlice('\n')
	switch err {
	case nil:
		m.rest, m.eol = trimEOL(line), true
	case bufio.ErrBufferFull:
		if line[len(line)-1] == '\r' {
			line, m.cr = line[:len(line)-1], true
		}
		m.rest = line
	default:
		m.rest = line
		m.setErr(err)
	}
}

// finish ends the message and gives the session back to the Client.
func (m *MessageReader) finish() {
	m.err = io.EOF
	if m.c != nil {
		m.c.reader = nil
		m.release()
	}
}

// setErr records a failure; the session is then unusable.
func (m *MessageReader) setErr(err error) {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if m.c != nil {
		err = m.c.fail(m.cmd, err)
		m.c.reader = nil
		m.release()
	}
	m.err = err
}

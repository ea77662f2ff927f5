package pop3

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
)

// send writes one command line. shown is what Trace gets (masked).
func (c *Client) send(cmd, line, shown string) error {
	if strings.ContainsAny(line, "\r\n\x00") {
		return fmt.Errorf("pop3: %s: command contains CR, LF or NUL", cmd)
	}
	c.wbuf = append(append(c.wbuf[:0], line...), '\r', '\n')
	if c.trace != nil {
		c.trace('>', shown)
	}
	return c.flushCommands(cmd)
}

// flushCommands writes the command lines gathered in wbuf in one write.
func (c *Client) flushCommands(cmd string) error {
	c.mu.Lock()
	conn := c.conn
	c.mu.Unlock()
	if _, err := conn.Write(c.wbuf); err != nil {
		return c.fail(cmd, err)
	}
	return nil
}

// readLine reads one status or list line and strips its line ending. The
// slice is valid until the next read.
func (c *Client) readLine(cmd string) ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull:
		return nil, c.fail(cmd, &ProtocolError{Msg: fmt.Sprintf("line longer than %d bytes", bufSize)})
	case err == io.EOF && len(line) > 0:
		return nil, c.fail(cmd, io.ErrUnexpectedEOF)
	case err != nil:
		return nil, c.fail(cmd, err)
	}
	line = trimEOL(line)
	if c.trace != nil {
		c.trace('<', c.scrub(string(line)))
	}
	return line, nil
}

// status reads and parses a status line. A -ERR is returned as *Error; a
// SASL continuation is only accepted when allowCont is set.
func (c *Client) status(cmd string, allowCont bool) (reply, error) {
	line, err := c.readLine(cmd)
	if err != nil {
		return reply{}, err
	}
	r, err := parseReply(line)
	if err != nil {
		return reply{}, c.fail(cmd, err)
	}
	if r.cont && !allowCont {
		return reply{}, c.fail(cmd, &ProtocolError{Msg: "unexpected continuation reply " + quote(line)})
	}
	if !r.ok && !r.cont {
		return r, &Error{Command: cmd, Code: r.code, Text: c.scrub(r.text)}
	}
	return r, nil
}

// simple sends a one-line command and returns the text of its +OK reply.
func (c *Client) simple(ctx context.Context, cmd, line, shown string) (string, error) {
	release, err := c.begin(ctx, cmd)
	if err != nil {
		return "", err
	}
	defer release()
	if err := c.send(cmd, line, shown); err != nil {
		return "", err
	}
	r, err := c.status(cmd, false)
	return r.text, err
}

// multi sends a command with a multi-line answer and calls each for every
// dot-unstuffed line of it. A -ERR status is returned as *Error; an answer
// of more than maxLines lines is a *ProtocolError, so that a server that
// never ends one cannot hold the session (and its memory) forever.
func (c *Client) multi(ctx context.Context, cmd, line string, maxLines int, each func([]byte) error) error {
	release, err := c.begin(ctx, cmd)
	if err != nil {
		return err
	}
	defer release()
	if err := c.send(cmd, line, line); err != nil {
		return err
	}
	if _, err := c.status(cmd, false); err != nil {
		return err
	}
	for n := 0; ; n++ {
		l, err := c.readLine(cmd)
		if err != nil {
			return err
		}
		if len(l) == 1 && l[0] == '.' {
			return nil
		}
		if n == maxLines {
			return c.fail(cmd, &ProtocolError{Msg: fmt.Sprintf("the answer goes on past %d lines", maxLines)})
		}
		l = bytes.TrimPrefix(l, []byte("."))
		if err := each(l); err != nil {
			return c.fail(cmd, err)
		}
	}
}

// maxCapaLines bounds a CAPA answer; real servers send a dozen lines.
const maxCapaLines = 1000

// MaxMessages is the largest message count Stat accepts: a caller may
// size its tables by the count, and a server announcing two billion
// messages must not make it allocate for them.
const MaxMessages = 1 << 22

// maxListingLines bounds a UIDL or LIST answer when no STAT told the
// message count: 4 Mi messages, a few hundred MiB of UIDs.
const maxListingLines = MaxMessages

// listingLines is how many lines a UIDL or LIST answer may have: the count
// of the last STAT, with a margin for a server that counts differently
// (mail arriving mid-session), or maxListingLines without a STAT.
func (c *Client) listingLines() int {
	if c.stat < 0 {
		return maxListingLines
	}
	return c.stat + 10000
}

// Cmd sends a raw single-line command built with fmt.Sprintf and returns
// the text of its +OK reply; a -ERR is returned as *Error. It is meant for
// commands the Client has no method for, such as STLS. After an AUTH
// command answered with a "+ " continuation, Cmd also returns the
// continuation text, and the lines sent until the final +OK or -ERR are
// treated as SASL data: masked in the trace and in errors.
func (c *Client) Cmd(ctx context.Context, format string, args ...any) (string, error) {
	line := fmt.Sprintf(format, args...)
	cmd := verb(line)
	if c.inAuth {
		cmd = "AUTH"
	}
	release, err := c.begin(ctx, cmd)
	if err != nil {
		return "", err
	}
	defer release()
	shown := mask(cmd, line, c.inAuth)
	if err := c.send(cmd, line, shown); err != nil {
		return "", err
	}
	r, err := c.status(cmd, cmd == "AUTH")
	c.inAuth = err == nil && r.cont
	return r.text, err
}

// verb returns the upper-cased first word of a command line.
func verb(line string) string {
	if i := strings.IndexByte(line, ' '); i >= 0 {
		line = line[:i]
	}
	return strings.ToUpper(line)
}

// withSecret runs fn after adding secret to what is masked in replies: a
// server that echoes the password in its answer (now or later in the
// session) must not get it into a trace or an error.
func (c *Client) withSecret(secret string, fn func() error) error {
	c.secrets.Secret(secret)
	return fn()
}

// AddSecret adds a password or token to what is masked in every later
// reply (trace and errors), with its base64 and SASL forms. Auth adds the
// SASL responses itself; the caller adds the password or token behind
// them.
func (c *Client) AddSecret(secret string) { c.secrets.Secret(secret) }

// scrub masks the secrets in server text.
func (c *Client) scrub(s string) string { return c.secrets.Scrub(s) }

// mask hides the secret part of a command line for the trace.
func mask(cmd, line string, inAuth bool) string {
	if inAuth {
		return "*****"
	}
	switch cmd {
	case "PASS":
		return "PASS *****"
	case "APOP", "AUTH":
		// Keep the user name (APOP) or mechanism (AUTH), hide the rest.
		f := strings.Fields(line)
		if len(f) <= 2 {
			return line
		}
		return f[0] + " " + f[1] + " *****"
	}
	return line
}

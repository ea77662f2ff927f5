package imap

import (
	"bytes"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/gofetchmail/gofetchmail/internal/redact"
)

// traceConn reports the lines crossing a connection to a trace function,
// with secrets and message contents masked: the arguments of LOGIN and
// AUTHENTICATE and every client line until that command's tagged answer
// (SASL responses, a password sent as a literal), and the bytes of every
// literal the server sends (message bodies).
type traceConn struct {
	net.Conn
	r       io.Reader
	trace   func(byte, string)
	secrets *redact.Set // the login's secrets, masked in server lines

	mu      sync.Mutex
	secret  string // tag of the LOGIN/AUTHENTICATE in progress
	in, out lineBuf
	skip    int64 // literal bytes from the server still to pass silently
}

func newTraceConn(c net.Conn, r io.Reader, trace func(byte, string), secrets *redact.Set) *traceConn {
	return &traceConn{Conn: c, r: r, trace: trace, secrets: secrets}
}

func (t *traceConn) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.mu.Lock()
	t.feedIn(p[:n])
	t.mu.Unlock()
	return n, err
}

func (t *traceConn) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.out.feed(p, func(line string) { t.trace('>', t.maskOut(line)) })
	t.mu.Unlock()
	return t.Conn.Write(p)
}

func (t *traceConn) feedIn(p []byte) {
	for len(p) > 0 {
		if t.skip > 0 {
			n := min(int64(len(p)), t.skip)
			t.skip -= n
			p = p[n:]
			continue
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			t.in.add(p)
			return
		}
		t.in.add(p[:i+1])
		p = p[i+1:]
		line := t.in.take()
		if t.secret != "" && strings.HasPrefix(line, t.secret+" ") {
			t.secret = ""
		}
		shown := clip(line, 200)
		if cut, ok := strings.CutSuffix(shown, "..."); ok {
			shown = t.secrets.ScrubCut(cut) + "..." // a secret may straddle the cut
		} else {
			shown = t.secrets.Scrub(shown)
		}
		t.trace('<', shown)
		if n, ok := literalSize(t.in.tail); ok {
			t.skip = n
			if n > 0 {
				t.trace('<', "("+strconv.FormatInt(n, 10)+" octets not shown)")
			}
		}
		t.in.tail = t.in.tail[:0]
	}
}

// maskOut hides what a client line must not show.
func (t *traceConn) maskOut(line string) string {
	if t.secret != "" {
		return "*** (masked)"
	}
	f := strings.SplitN(line, " ", 4)
	if len(f) >= 2 {
		switch strings.ToUpper(f[1]) {
		case "LOGIN":
			t.secret = f[0]
			user := ""
			if len(f) >= 3 {
				user = " " + f[2]
			}
			return f[0] + " LOGIN" + user + " ***"
		case "AUTHENTICATE":
			t.secret = f[0]
			if len(f) >= 4 {
				return f[0] + " AUTHENTICATE " + f[2] + " ***"
			}
		}
	}
	return line
}

// literalSize parses a trailing {N} or {N+}.
func literalSize(tail []byte) (int64, bool) {
	s := strings.TrimRight(string(tail), "\r\n")
	if !strings.HasSuffix(s, "}") {
		return 0, false
	}
	i := strings.LastIndexByte(s, '{')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSuffix(s[i+1:len(s)-1], "+"), 10, 64)
	return n, err == nil && n >= 0
}

// lineBuf gathers one line: its first bytes (for the trace) and its last
// ones (to find a literal's size); the middle of a long line is dropped.
type lineBuf struct {
	head []byte
	tail []byte
	long bool
}

const headMax, tailMax = 200, 32

func (b *lineBuf) add(p []byte) {
	take := min(max(headMax-len(b.head), 0), len(p))
	b.head = append(b.head, p[:take]...)
	if take < len(p) {
		b.long = true
	}
	b.tail = append(b.tail, p...)
	if len(b.tail) > tailMax {
		b.tail = append(b.tail[:0], b.tail[len(b.tail)-tailMax:]...)
	}
}

// take returns the gathered line, without its line end, and resets the
// head (the tail stays until the caller looked at it).
func (b *lineBuf) take() string {
	s := strings.TrimRight(string(b.head), "\r\n")
	if b.long {
		s += "..."
	}
	b.head, b.long = b.head[:0], false
	return s
}

func (b *lineBuf) feed(p []byte, emit func(string)) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			b.add(p)
			return
		}
		b.add(p[:i+1])
		p = p[i+1:]
		emit(b.take())
		b.tail = b.tail[:0]
	}
}

package deliver

import (
	"bufio"
	"bytes"
	"io"
)

// crlfWriter converts line ends while streaming: with strip, CRLF becomes
// LF; otherwise a bare LF becomes CRLF.
type crlfWriter struct {
	w      io.Writer
	bw     *bufio.Writer
	strip  bool
	pendCR bool // strip: a CR is held until the next byte is known
	lastCR bool // force: the previous byte was a CR
}

func (c *crlfWriter) Write(p []byte) (int, error) {
	if c.bw == nil {
		c.bw = bufio.NewWriterSize(c.w, 32*1024)
	}
	for _, b := range p {
		if c.strip {
			if c.pendCR {
				c.pendCR = false
				if b != '\n' {
					c.bw.WriteByte('\r')
				}
			}
			if b == '\r' {
				c.pendCR = true
				continue
			}
			c.bw.WriteByte(b)
			continue
		}
		if b == '\n' && !c.lastCR {
			c.bw.WriteByte('\r')
		}
		c.lastCR = b == '\r'
		c.bw.WriteByte(b)
	}
	if c.bw.Buffered() >= 16*1024 {
		if err := c.bw.Flush(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Close writes a held CR and flushes.
func (c *crlfWriter) Close() error {
	if c.bw == nil {
		c.bw = bufio.NewWriter(c.w)
	}
	if c.pendCR {
		c.pendCR = false
		c.bw.WriteByte('\r')
	}
	return c.bw.Flush()
}

// qpWriter decodes quoted-printable while streaming, leniently as mail
// readers do: =XX with two hex digits is a byte, "=" at the end of a line
// is a soft line break, and any other "=" is kept as it is.
type qpWriter struct {
	w     io.Writer
	bw    *bufio.Writer
	state int  // 0 plain, 1 after '=', 2 after '=' and a hex digit, 3 after "=\r"
	hi    byte // the first hex digit in state 2
}

func unhex(b byte) (byte, bool) {
	switch {
	case '0' <= b && b <= '9':
		return b - '0', true
	case 'A' <= b && b <= 'F':
		return b - 'A' + 10, true
	case 'a' <= b && b <= 'f':
		return b - 'a' + 10, true
	}
	return 0, false
}

func (q *qpWriter) Write(p []byte) (int, error) {
	if q.bw == nil {
		q.bw = bufio.NewWriterSize(q.w, 32*1024)
	}
	for b := p; len(b) > 0; {
		if q.state != 0 {
			q.put(b[0])
			b = b[1:]
			continue
		}
		// Plain text up to the next '=' goes out in one piece.
		i := bytes.IndexByte(b, '=')
		if i < 0 {
			q.bw.Write(b)
			break
		}
		q.bw.Write(b[:i])
		q.state = 1
		b = b[i+1:]
	}
	if q.bw.Buffered() >= 16*1024 {
		if err := q.bw.Flush(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// put feeds one byte through the decoder.
func (q *qpWriter) put(b byte) {
	switch q.state {
	case 1:
		if _, ok := unhex(b); ok {
			q.state, q.hi = 2, b
			return
		}
		switch b {
		case '\n':
			q.state = 0 // soft line break
			return
		case '\r':
			q.state = 3
			return
		}
		q.state = 0
		q.bw.WriteByte('=')
	case 2:
		q.state = 0
		if lo, ok := unhex(b); ok {
			hi, _ := unhex(q.hi)
			q.bw.WriteByte(hi<<4 | lo)
			return
		}
		q.bw.WriteByte('=')
		q.bw.WriteByte(q.hi)
	case 3:
		q.state = 0
		if b == '\n' {
			return // soft line break
		}
		q.bw.WriteString("=\r")
	}
	if b == '=' {
		q.state = 1
		return
	}
	q.bw.WriteByte(b)
}

// Close writes what an unfinished escape held, literally, and flushes.
func (q *qpWriter) Close() error {
	if q.bw == nil {
		q.bw = bufio.NewWriter(q.w)
	}
	switch q.state {
	case 1:
		q.bw.WriteByte('=')
	case 2:
		q.bw.WriteByte('=')
		q.bw.WriteByte(q.hi)
	case 3:
		q.bw.WriteString("=\r")
	}
	q.state = 0
	return q.bw.Flush()
}

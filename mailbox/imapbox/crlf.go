package imapbox

import (
	"io"
	"sync"
)

// crlfReader turns CRLF line ends into LF while streaming, as the POP3
// reader does, so that an IMAP literal reaches the deliverer in the same
// form as a POP3 message. A CR not followed by LF is kept.
type crlfReader struct {
	r       io.Reader
	in, out []byte
	pending []byte // converted bytes not yet returned
	heldCR  bool   // the last byte read was a CR whose successor is unknown
	err     error
	n       int64 // bytes read from r, line ends as they came
}

// crlfPool keeps the readers' buffers from one message to the next.
var crlfPool = sync.Pool{New: func() any {
	return &crlfReader{in: make([]byte, 32<<10), out: make([]byte, 0, 32<<10+1)}
}}

// newCRLFReader returns a reader of r; give it back with release.
func newCRLFReader(r io.Reader) *crlfReader {
	c := crlfPool.Get().(*crlfReader)
	c.r, c.pending, c.heldCR, c.err, c.n = r, nil, false, nil, 0
	return c
}

// release returns c to the pool; c must not be used after.
func (c *crlfReader) release() {
	c.r, c.pending = nil, nil
	crlfPool.Put(c)
}

func (c *crlfReader) Read(p []byte) (int, error) {
	for len(c.pending) == 0 {
		if c.err != nil {
			if c.heldCR {
				c.heldCR = false
				c.pending = append(c.out[:0], '\r')
				break
			}
			return 0, c.err
		}
		n, err := c.r.Read(c.in)
		c.n += int64(n)
		c.err = err
		out := c.out[:0]
		for _, b := range c.in[:n] {
			if c.heldCR {
				c.heldCR = false
				if b != '\n' {
					out = append(out, '\r')
				}
			}
			if b == '\r' {
				c.heldCR = true
				continue
			}
			out = append(out, b)
		}
		c.pending = out
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

package deliver

import (
	"bytes"
	"io"
)

// fromQuoter is an io.Writer applying mboxrd quoting: every line matching
// ^>*From␠ gets one more '>' in front. It keeps state across Write calls, so
// a line split anywhere between two writes is quoted the same way.
type fromQuoter struct {
	w io.Writer
	// atStart is true while the current line is still undecided: only
	// '>'s and a prefix of "From " were seen, all kept in pend.
	atStart bool
	pend    []byte // undecided start of the current line
	gts     int    // number of leading '>' in pend
	last    byte   // last byte passed through (0 if none)
	n       int64  // bytes written to w
}

var (
	fromPrefix = []byte("From ")
	quoteMark  = []byte{'>'}
)

func newFromQuoter(w io.Writer) *fromQuoter {
	return &fromQuoter{w: w, atStart: true, pend: make([]byte, 0, 16)}
}

// Write quotes p. It reports len(p) on success, as bytes held back for a
// decision are written by later calls or by Flush.
func (q *fromQuoter) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		if q.atStart {
			used, err := q.decide(p)
			if err != nil {
				return total - len(p), err
			}
			p = p[used:]
			continue
		}
		// Inside a line: pass everything through the next newline.
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if err := q.emit(p); err != nil {
				return total - len(p), err
			}
			break
		}
		if err := q.emit(p[:i+1]); err != nil {
			return total - len(p), err
		}
		p = p[i+1:]
		q.atStart = true
	}
	return total, nil
}

// decide consumes bytes at the start of a line until it knows whether the
// line needs a '>'. It returns how many bytes of p it used.
func (q *fromQuoter) decide(p []byte) (int, error) {
	used := 0
	for used < len(p) {
		c := p[used]
		matched := len(q.pend) - q.gts // bytes of "From " already seen
		switch {
		case matched == 0 && c == '>':
			q.pend = append(q.pend, c)
			q.gts++
			used++
		case c == fromPrefix[matched]:
			q.pend = append(q.pend, c)
			used++
			if matched+1 == len(fromPrefix) {
				q.atStart = false
				return used, q.flushPend(true)
			}
		default:
			// Not a From line; c itself is handled by the caller's loop.
			q.atStart = false
			return used, q.flushPend(false)
		}
	}
	return used, nil
}

func (q *fromQuoter) flushPend(quote bool) error {
	if quote {
		if err := q.emit(quoteMark); err != nil {
			return err
		}
	}
	err := q.emit(q.pend)
	q.pend = q.pend[:0]
	q.gts = 0
	return err
}

func (q *fromQuoter) emit(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	n, err := q.w.Write(b)
	q.n += int64(n)
	if n > 0 {
		q.last = b[n-1]
	}
	return err
}

// Flush writes out a held-back line start (the message ended inside an
// undecided prefix such as ">>Fro") unquoted.
func (q *fromQuoter) Flush() error {
	if !q.atStart || len(q.pend) == 0 {
		return nil
	}
	return q.flushPend(false)
}

package fetch

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// countingReader counts the bytes of a message read and records whether a
// read error came from the server. It also bounds the time a server may
// spend past the message's announced size (see overrunBytes): once more
// than soft bytes were read, the rest must arrive within budget, or cut
// runs (it closes the connection, failing the read).
type countingReader struct {
	r   io.Reader
	n   int64
	err error

	soft   int64
	budget time.Duration
	cut    func()
	timer  *time.Timer
	fired  atomic.Bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF {
		c.err = err
	}
	if c.n > c.soft && c.timer == nil && c.cut != nil {
		c.timer = time.AfterFunc(c.budget, func() {
			c.fired.Store(true)
			c.cut()
		})
	}
	return n, err
}

// stop ends the overrun watch; it reports whether the budget ran out.
func (c *countingReader) stop() bool {
	if c.timer != nil {
		c.timer.Stop()
	}
	return c.fired.Load()
}

// overrunSlack is the least overrun overrunBytes allows. It is a variable
// only so that tests can lower it.
var overrunSlack int64 = 1 << 20

// overrunBytes is how much of a message announced with size the server
// may send at its own pace: twice the size, at least the size plus 1 MiB.
// What comes beyond that must arrive within the rc timeout in all, so that
// a server that drips an endless message just fast enough to beat every
// read timeout still cannot keep a poll running until maxMessageBytes.
func overrunBytes(size int64) int64 {
	size = min(max(size, 0), maxAnnouncedSize)
	return max(2*size, size+overrunSlack)
}

// messageSlack is the margin maxMessageBytes allows over a message's LIST
// size. It is a variable only so that tests can lower it.
var messageSlack int64 = 64 << 20

// maxAnnouncedSize is the largest LIST size maxMessageBytes believes; a
// larger one (999999999999 from a lying server) counts as this much.
const maxAnnouncedSize = 16 << 30

// maxMessageBytes is how much of a message whose LIST size is size stageOne
// reads before it gives up on it: twice the announced size, and at least
// that size plus 64 MiB. LIST sizes are only approximate: a server that
// counts a line end as one byte announces at worst half the CRLF size, and
// some lie, hence the margin. The cap exists so that a server that never
// ends a message (an endless RETR) cannot keep a poll running, or a maildir
// growing, forever; the message it cuts off stays on the server.
func maxMessageBytes(size int64) int64 {
	size = min(max(size, 0), maxAnnouncedSize)
	return max(2*size, size+messageSlack)
}

// oversizeError reports a message abandoned by the maxMessageBytes cap.
type oversizeError struct {
	num         int64
	listed, cap int64
}

func (e *oversizeError) Error() string {
	return fmt.Sprintf("message %d is larger than %d octets (LIST said %d): the server does not end it; abandoned, left on the server, connection closed", e.num, e.cap, e.listed)
}

// overrunError reports a message abandoned because the server went on
// past overrunBytes for longer than the timeout.
type overrunError struct {
	num          int64
	listed, read int64
	budget       time.Duration
}

func (e *overrunError) Error() string {
	return fmt.Sprintf("message %d goes on past %d octets (LIST said %d) for more than %s: the server does not end it; abandoned, left on the server, connection closed", e.num, e.read, e.listed, e.budget)
}

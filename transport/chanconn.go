package transport

import (
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// channelConn gives deadlines to a net.Conn that has none, such as an SSH
// channel (x/crypto/ssh's channel conns reject SetDeadline) or a plugin
// process's pipe. A deadline is a timer: when it passes, the underlying
// conn is CLOSED, pending and later Reads and Writes fail with an error
// that wraps os.ErrDeadlineExceeded (a net.Error with Timeout() true), and
// the conn cannot be used again. Moving a deadline before it passes, or
// clearing it with the zero time, keeps the conn alive. This suits callers
// that treat a timeout as the end of the session, as mail clients do.
type channelConn struct {
	net.Conn

	mu       sync.Mutex
	read     *time.Timer
	write    *time.Timer
	expired  atomic.Bool
	closeErr error
	closed   sync.Once
}

func newChannelConn(c net.Conn) *channelConn {
	return &channelConn{Conn: c}
}

func (c *channelConn) expire() {
	c.expired.Store(true)
	c.closeInner()
}

func (c *channelConn) closeInner() error {
	c.closed.Do(func() { c.closeErr = c.Conn.Close() })
	return c.closeErr
}

func (c *channelConn) Read(p []byte) (int, error) {
	if c.expired.Load() {
		return 0, timeoutError{}
	}
	n, err := c.Conn.Read(p)
	if err != nil && c.expired.Load() {
		err = timeoutError{}
	}
	return n, err
}

func (c *channelConn) Write(p []byte) (int, error) {
	if c.expired.Load() {
		return 0, timeoutError{}
	}
	n, err := c.Conn.Write(p)
	if err != nil && c.expired.Load() {
		err = timeoutError{}
	}
	return n, err
}

// Close stops the timers and closes the underlying conn.
func (c *channelConn) Close() error {
	c.mu.Lock()
	stopTimer(&c.read)
	stopTimer(&c.write)
	c.mu.Unlock()
	return c.closeInner()
}

// SetDeadline sets both deadlines; see channelConn for what passing one does.
func (c *channelConn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

// SetReadDeadline arms the read timer; passing it closes the conn.
func (c *channelConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.arm(&c.read, t)
}

// SetWriteDeadline arms the write timer; passing it closes the conn.
func (c *channelConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.arm(&c.write, t)
}

func (c *channelConn) arm(timer **time.Timer, t time.Time) error {
	stopTimer(timer)
	if t.IsZero() {
		return nil
	}
	d := time.Until(t)
	if d <= 0 {
		c.expire()
		return nil
	}
	*timer = time.AfterFunc(d, c.expire)
	return nil
}

func stopTimer(t **time.Timer) {
	if *t != nil {
		(*t).Stop()
		*t = nil
	}
}

// timeoutError is the error of I/O after a passed deadline.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout (deadline passed, connection closed)" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }
func (timeoutError) Unwrap() error   { return os.ErrDeadlineExceeded }

var _ net.Error = timeoutError{}

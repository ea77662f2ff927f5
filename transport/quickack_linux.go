//go:build linux

package transport

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// quickAckConn asks the kernel, before each read, to acknowledge what
// arrives at once (TCP_QUICKACK) instead of delaying the ACK.
//
// sshd does not set TCP_NODELAY on a connection that only forwards ports
// (no pty), so Nagle's algorithm makes it hold back a small packet (a
// "+OK" to a DELE, the end of a message) until its previous one is
// acknowledged; a receiver in delayed-ACK mode acknowledges up to 40 ms
// late. Each pipelined batch of POP3 commands through the channel then
// stalls for that long. Linux leaves quick-ACK mode on its own, hence the
// option is set again before every read; it costs one setsockopt.
type quickAckConn struct {
	*net.TCPConn
	raw syscall.RawConn
}

func withQuickAck(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	return &quickAckConn{TCPConn: tc, raw: raw}
}

func (c *quickAckConn) Read(p []byte) (int, error) {
	c.raw.Control(func(fd uintptr) {
		unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_QUICKACK, 1)
	})
	return c.TCPConn.Read(p)
}

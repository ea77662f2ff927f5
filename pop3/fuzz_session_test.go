package pop3

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// scriptConn is a net.Conn that replays fixed server bytes, swallows
// writes and, like an SSH channel, rejects deadlines.
type scriptConn struct{ r io.Reader }

func (c scriptConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c scriptConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c scriptConn) Close() error                     { return nil }
func (c scriptConn) LocalAddr() net.Addr              { return nil }
func (c scriptConn) RemoteAddr() net.Addr             { return nil }
func (c scriptConn) SetDeadline(time.Time) error      { return errors.New("deadlines not supported") }
func (c scriptConn) SetReadDeadline(time.Time) error  { return errors.New("deadlines not supported") }
func (c scriptConn) SetWriteDeadline(time.Time) error { return errors.New("deadlines not supported") }

// FuzzSession plays arbitrary server bytes to a whole session: whatever
// the server says, the client must not panic and every call must return.
func FuzzSession(f *testing.F) {
	f.Add([]byte("+OK hi <1@x>\r\n+OK\r\nUSER\r\n.\r\n+OK\r\n+OK\r\n+OK 1 5\r\n+OK\r\n1 a\r\n.\r\n+OK\r\n1 5\r\n.\r\n+OK\r\nbody\r\n.\r\n+OK\r\n"))
	f.Add([]byte("+OK\r\n-ERR [IN-USE] x\r\n"))
	f.Add([]byte("+OK\r\n+OK\r\n+OK\r\n+OK x y\r\n+OK\r\n1\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		c := NewClient(scriptConn{bytes.NewReader(in)}, &Options{Timeout: time.Minute})
		ctx := context.Background()
		c.Greeting(ctx)
		c.Capa(ctx)
		c.User(ctx, "u")
		c.Pass(ctx, "p")
		c.Stat(ctx)
		c.UIDL(ctx)
		c.List(ctx)
		if r, err := c.Retr(ctx, 1); err == nil {
			io.Copy(io.Discard, r)
		}
		c.APOP(ctx, "u", "p")
		c.Quit(ctx)
	})
}

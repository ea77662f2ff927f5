package transport

import (
	"context"
	"net"
)

// DialForward does in-process what the preconnect command f would have set
// up: it connects to f.Target with DialSSH and opens a direct-tcpip channel
// to f.RemoteHost:f.RemotePort. Closing the returned conn closes the channel
// and the SSH connection.
func DialForward(ctx context.Context, f *Forward, opts SSHOptions) (net.Conn, error) {
	c, err := DialSSH(ctx, f.Target, opts)
	if err != nil {
		return nil, err
	}
	conn, err := c.DialContext(ctx, "tcp", f.RemoteAddr())
	if err != nil {
		c.Close()
		return nil, err
	}
	return &ownedConn{Conn: conn, client: c}, nil
}

// ownedConn is a channel that owns its SSH client.
type ownedConn struct {
	net.Conn
	client *SSHClient
}

// Close closes the channel, then the SSH connection.
func (c *ownedConn) Close() error {
	err := c.Conn.Close()
	if cerr := c.client.Close(); err == nil {
		err = cerr
	}
	return err
}

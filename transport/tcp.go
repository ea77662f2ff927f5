package transport

import (
	"context"
	"fmt"
	"net"
	"time"
)

// DialTCP connects to addr ("host:port"), bounded by ctx and, if positive,
// timeout.
func DialTCP(ctx context.Context, addr string, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	return c, nil
}

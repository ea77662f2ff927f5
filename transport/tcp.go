package transport

import (
	"context"
	"errors"
	"net"
	"os"
	"time"
)

// DialTCP connects to addr ("host:port"), bounded by ctx and, if positive,
// timeout. A failure is a *DialError.
func DialTCP(ctx context.Context, addr string, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, &DialError{Addr: addr, Err: err}
	}
	return c, nil
}

// DialError is a TCP connection that could not be made. Its message names
// the address once and the cause ("connect to H:P: connection refused"),
// not the *net.OpError's repetition of both; Unwrap gives the net error.
type DialError struct {
	Addr string
	Err  error
}

func (e *DialError) Error() string {
	cause := e.Err
	var op *net.OpError
	if errors.As(cause, &op) && op.Err != nil {
		cause = op.Err
		var sys *os.SyscallError
		if errors.As(cause, &sys) {
			cause = sys.Err
		}
	}
	return "connect to " + e.Addr + ": " + cause.Error()
}

func (e *DialError) Unwrap() error { return e.Err }

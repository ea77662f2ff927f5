//go:build !unix

package transport

import (
	"context"
	"errors"
	"net"
)

// DialCommand is only available on Unix systems.
func DialCommand(ctx context.Context, cmd string) (net.Conn, error) {
	return nil, &CommandError{Cmd: cmd, ExitCode: -1, Err: errors.New("plugin commands need a Unix system")}
}

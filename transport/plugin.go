//go:build unix

package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// pluginExitGrace is how long Close waits for a plugin to exit after its
// end of the socket is shut down, before killing it.
const pluginExitGrace = 2 * time.Second

// pluginStderr receives plugin commands' stderr (tests silence it).
var pluginStderr io.Writer = os.Stderr

// DialCommand starts a fetchmail `plugin` command and returns a connection
// over its stdin and stdout. As in fetchmail, the command is split on
// whitespace without any quoting (the caller has already substituted %h and
// %p), run without a shell (PATH search), and given one end of a Unix
// socket pair as both stdin and stdout. The command's stderr goes to this
// process's stderr; its tail is also kept for CommandConn.Stderr.
//
// The returned conn is a *CommandConn. Its deadlines are those of the Unix
// socket. Close shuts the socket, waits briefly for the command to exit and
// kills it otherwise. ctx bounds only the start of the command.
func DialCommand(ctx context.Context, cmd string) (net.Conn, error) {
	args := strings.Fields(cmd)
	if len(args) == 0 {
		return nil, &CommandError{Cmd: cmd, ExitCode: -1, Err: errors.New("empty plugin command")}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	syscall.ForkLock.RLock()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fds[0])
		syscall.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("plugin %q: socketpair: %w", cmd, err)
	}
	ours := os.NewFile(uintptr(fds[0]), "plugin")
	theirs := os.NewFile(uintptr(fds[1]), "plugin-child")
	defer theirs.Close()

	c := exec.Command(args[0], args[1:]...)
	tail := &tailBuffer{max: 2048}
	c.Stdin, c.Stdout = theirs, theirs
	c.Stderr = io.MultiWriter(pluginStderr, tail)
	c.WaitDelay = time.Second // children of the plugin may hold stderr open
	if err := c.Start(); err != nil {
		ours.Close()
		return nil, &CommandError{Cmd: cmd, ExitCode: -1, Err: err}
	}
	conn, err := net.FileConn(ours)
	ours.Close()
	if err != nil {
		c.Process.Kill()
		c.Wait()
		return nil, fmt.Errorf("plugin %q: %w", cmd, err)
	}
	pc := &CommandConn{Conn: conn, cmd: c, cmdline: cmd, tail: tail, exited: make(chan struct{})}
	go func() {
		pc.waitErr = c.Wait()
		close(pc.exited)
	}()
	return pc, nil
}

// CommandConn is the connection to a plugin command started by DialCommand.
type CommandConn struct {
	net.Conn
	cmd     *exec.Cmd
	cmdline string
	tail    *tailBuffer
	exited  chan struct{}
	waitErr error
	once    sync.Once
	err     error
}

// Stderr returns the last lines the command wrote to stderr, useful to
// explain an unexpected end of the session.
func (c *CommandConn) Stderr() string { return c.tail.String() }

// Close closes the socket, which the command sees as end of input, waits up
// to two seconds for it to exit and kills it otherwise. It returns a
// *CommandError if the command exited with a nonzero status before being
// killed.
func (c *CommandConn) Close() error {
	c.once.Do(func() {
		c.Conn.Close()
		select {
		case <-c.exited:
		case <-time.After(pluginExitGrace):
			c.cmd.Process.Kill()
			<-c.exited
			return
		}
		var ee *exec.ExitError
		if errors.As(c.waitErr, &ee) && ee.ExitCode() > 0 {
			c.err = &CommandError{Cmd: c.cmdline, ExitCode: ee.ExitCode(), Stderr: c.tail.String(), Err: c.waitErr}
		}
	})
	return c.err
}

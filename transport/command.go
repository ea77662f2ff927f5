package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// shellWaitDelay is how long RunShell waits, after the shell has exited,
// for the command's output pipes to close. `ssh -f` leaves a background
// process holding them open; waiting for it would stall the poll.
const shellWaitDelay = 500 * time.Millisecond

// RunShell runs cmd with /bin/sh -c, as fetchmail runs preconnect and
// postconnect commands, and waits for the shell to exit. stdout and stderr
// may be nil (discarded). Background processes the command leaves behind
// (ssh -f) keep running. A nonzero exit is a *CommandError carrying the
// exit code and the tail of stderr. Cancelling ctx kills the shell.
func RunShell(ctx context.Context, cmd string, stdout, stderr io.Writer) error {
	c := exec.CommandContext(ctx, "/bin/sh", "-c", cmd)
	tail := &tailBuffer{max: 2048}
	c.Stdout = stdout
	if stderr != nil {
		c.Stderr = io.MultiWriter(stderr, tail)
	} else {
		c.Stderr = tail
	}
	c.WaitDelay = shellWaitDelay
	err := c.Run()
	if err == nil || (errors.Is(err, exec.ErrWaitDelay) && c.ProcessState != nil && c.ProcessState.Success()) {
		return nil
	}
	code := -1
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	}
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	return &CommandError{Cmd: cmd, ExitCode: code, Stderr: tail.String(), Err: err}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

// String returns the kept bytes, starting at a line boundary when the
// start was cut off.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := string(t.buf)
	if len(t.buf) == t.max {
		if i := strings.IndexByte(s, '\n'); i >= 0 && i < len(s)-1 {
			s = s[i+1:]
		}
	}
	return strings.TrimSpace(s)
}

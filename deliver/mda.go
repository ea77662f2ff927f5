package deliver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// MDAOptions tune an MDA. The zero value (or nil) gives the defaults.
type MDAOptions struct {
	// Timeout bounds one delivery from Begin to the end of Commit
	// (default 10 minutes). On timeout the process group is killed.
	Timeout time.Duration
	// Env is added to the environment the command inherits.
	Env []string
	// Shell runs the command (default /bin/sh).
	Shell string
}

// MDA delivers each message by running a command, as fetchmail's "mda"
// option does: /bin/sh -c CMD with the message on standard input. %F in CMD
// stands for the envelope sender, %T and %s for the local recipients (see
// expandMDA for how they reach the shell without ever being parsed as shell
// code, and mdaArg for the characters they are restricted to). As in fetchmail, %s is a placeholder too, so a printf format in the
// command must not contain it. Exit status 0 means delivered; anything else
// is an *MDAError and the message stays on the server. The command's
// standard output is discarded; the tail of its standard error is kept for
// the error.
type MDA struct {
	command string // as configured, for logs
	script  string // with placeholders rewritten
	opts    MDAOptions
}

// MDAError reports an MDA that did not exit with status 0.
type MDAError struct {
	Command  string // the command as configured
	ExitCode int    // -1 when killed by a signal
	Signal   string // the signal's name when killed ("" otherwise)
	TimedOut bool   // killed because Timeout passed
	Stderr   string // the last 4 KiB the command wrote to standard error
}

// Error returns a one-line description with the last line of stderr.
func (e *MDAError) Error() string {
	var what string
	switch {
	case e.TimedOut:
		what = "timed out and was killed"
	case e.Signal != "":
		what = "killed by signal " + e.Signal
	default:
		what = fmt.Sprintf("exited with status %d", e.ExitCode)
	}
	msg := fmt.Sprintf("mda %q %s", e.Command, what)
	if s := lastLine(e.Stderr); s != "" {
		msg += ": " + s
	}
	return msg
}

// NewMDA prepares delivery through command.
func NewMDA(command string, opts *MDAOptions) (*MDA, error) {
	if command == "" {
		return nil, errors.New("mda: empty command")
	}
	m := &MDA{command: command, script: expandMDA(command)}
	if opts != nil {
		m.opts = *opts
	}
	if m.opts.Timeout <= 0 {
		m.opts.Timeout = 10 * time.Minute
	}
	if m.opts.Shell == "" {
		m.opts.Shell = "/bin/sh"
	}
	return m, nil
}

// String returns "mda COMMAND".
func (m *MDA) String() string { return "mda " + m.command }

// Close releases nothing: a process runs per message.
func (m *MDA) Close() error { return nil }

// Begin starts the command for one message. ctx bounds the whole
// transaction: when it ends, the process group is killed.
func (m *MDA) Begin(ctx context.Context, env Envelope) (Tx, error) {
	from := mdaArg(env.From)
	args := []string{"-c", m.script, "sh"}
	for _, r := range env.To {
		args = append(args, mdaArg(r))
	}
	tctx, cancel := context.WithTimeout(ctx, m.opts.Timeout)
	cmd := exec.CommandContext(tctx, m.opts.Shell, args...)
	cmd.Env = append(append(os.Environ(), m.opts.Env...), senderVar+"="+from)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return killGroup(cmd) }
	cmd.WaitDelay = mdaWaitDelay
	tx := &mdaTx{m: m, cmd: cmd, ctx: tctx, cancel: cancel}
	cmd.Stderr = &tx.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		return nil, fmt.Errorf("mda %q: %w", m.command, err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("mda %q: %w", m.command, err)
	}
	tx.stdin = stdin
	tx.w = getWriter(stdin)
	return tx, nil
}

// mdaWaitDelay is how long Commit waits, once the MDA has exited, for
// processes it left behind to close standard error (a variable for tests).
var mdaWaitDelay = 5 * time.Second

// killGroup sends SIGKILL to the command's whole process group.
func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}

// mdaTx is one running MDA.
type mdaTx struct {
	m      *MDA
	cmd    *exec.Cmd
	ctx    context.Context
	cancel context.CancelFunc
	stdin  io.WriteCloser
	w      *bufio.Writer
	stderr tailBuffer
	txState
}

// Write feeds message bytes to the command's standard input.
func (tx *mdaTx) Write(p []byte) (int, error) {
	return tx.write(tx.w, p, func(err error) error { return fmt.Errorf("mda %q: write: %w", tx.m.command, err) })
}

// Commit closes standard input and waits for the command. Only exit status
// 0 commits; otherwise the error is an *MDAError (or a write error).
func (tx *mdaTx) Commit() error {
	if tx.done {
		return errTxDone
	}
	if tx.err != nil {
		tx.Abort()
		return tx.err
	}
	if err := tx.w.Flush(); err != nil {
		tx.err = fmt.Errorf("mda %q: write: %w", tx.m.command, err)
		tx.Abort()
		return tx.err
	}
	tx.done = true
	putWriter(tx.w)
	tx.w = nil
	defer tx.cancel()
	cerr := tx.stdin.Close()
	werr := tx.cmd.Wait()
	if werr == nil && cerr != nil {
		return fmt.Errorf("mda %q: close stdin: %w", tx.m.command, cerr)
	}
	return tx.waitError(werr)
}

// waitError turns Wait's result into nil or an *MDAError.
func (tx *mdaTx) waitError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, exec.ErrWaitDelay) && tx.cmd.ProcessState != nil && tx.cmd.ProcessState.Success() {
		// The MDA succeeded; something it started still holds stderr.
		return nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return fmt.Errorf("mda %q: %w", tx.m.command, err)
	}
	me := &MDAError{Command: tx.m.command, ExitCode: ee.ExitCode(), Stderr: tx.stderr.String()}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		me.Signal = ws.Signal().String()
		me.ExitCode = -1
	}
	me.TimedOut = errors.Is(tx.ctx.Err(), context.DeadlineExceeded)
	return me
}

// Abort kills the command's process group before closing its input, so the
// MDA never sees the end of a partial message, then reaps it. What the MDA
// itself had already stored cannot be undone here.
func (tx *mdaTx) Abort() error {
	if tx.done {
		return nil
	}
	tx.done = true
	putWriter(tx.w)
	tx.w = nil
	defer tx.cancel()
	killGroup(tx.cmd)
	tx.stdin.Close()
	tx.cmd.Wait()
	return nil
}

// tailBuffer keeps the last 4 KiB written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

const tailMax = 4 << 10

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailMax {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailMax:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	s = strings.TrimRight(s, "\r\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}

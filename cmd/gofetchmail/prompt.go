package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"

	"golang.org/x/term"
)

// errPromptInterrupted is returned by a prompt that ^C, SIGINT or SIGTERM
// ended.
var errPromptInterrupted = errors.New("interrupted")

// terminalPrompter asks for passwords and passphrases on the terminal
// without echo: the rc file's missing passwords before the first poll, and
// the in-process SSH client's password, passphrase and keyboard-interactive
// questions during one. ^C (SIGINT) or SIGTERM while it waits aborts the
// run as it does in ssh: the terminal gets its echo back, the prompt
// returns errPromptInterrupted, ctx (cancelled by the signal) stops the
// polls, and the program exits with 128 + the signal's number, the status
// a shell shows for ssh killed at its prompt.
type terminalPrompter struct {
	ctx context.Context // cancelled by SIGINT and SIGTERM
	fd  int
	out io.Writer

	mu      sync.Mutex // one prompt at a time
	sigMu   sync.Mutex
	signal  os.Signal // the signal that ended the run
	aborted bool      // a prompt was ended by it
}

// setSignal records the signal that cancelled ctx.
func (p *terminalPrompter) setSignal(sig os.Signal) {
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	if p.signal == nil {
		p.signal = sig
	}
}

// abortStatus is 128 + the signal's number when a signal ended a prompt,
// else 0.
func (p *terminalPrompter) abortStatus() int {
	if p == nil {
		return 0
	}
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	if !p.aborted {
		return 0
	}
	if s, ok := p.signal.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 128 + int(syscall.SIGINT)
}

// prompt writes prompt and reads a line without echo.
func (p *terminalPrompter) prompt(prompt string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ctx.Err() != nil {
		return "", errPromptInterrupted
	}
	saved, err := term.GetState(p.fd)
	if err != nil {
		return "", err
	}
	fmt.Fprint(p.out, prompt)
	type answer struct {
		b   []byte
		err error
	}
	got := make(chan answer, 1)
	go func() {
		// term.ReadPassword keeps ISIG: ^C reaches the process as
		// SIGINT, which cancels ctx. A read abandoned below ends with
		// the process.
		b, err := term.ReadPassword(p.fd)
		got <- answer{b, err}
	}()
	select {
	case a := <-got:
		fmt.Fprintln(p.out)
		return string(a.b), a.err
	case <-p.ctx.Done():
		term.Restore(p.fd, saved)
		fmt.Fprintln(p.out)
		p.sigMu.Lock()
		p.aborted = true
		p.sigMu.Unlock()
		return "", errPromptInterrupted
	}
}

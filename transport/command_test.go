//go:build unix

package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

func TestRunShell(t *testing.T) {
	var out, errb bytes.Buffer
	if err := RunShell(context.Background(), "echo hello; echo warn >&2", &out, &errb); err != nil {
		t.Fatal(err)
	}
	if out.String() != "hello\n" || errb.String() != "warn\n" {
		t.Errorf("stdout %q stderr %q", out.String(), errb.String())
	}

	err := RunShell(context.Background(), "echo ssh: connect to host popserver port 22: Connection refused >&2; exit 255", nil, nil)
	var cerr *CommandError
	if !errors.As(err, &cerr) {
		t.Fatalf("err = %v, want *CommandError", err)
	}
	if cerr.ExitCode != 255 || !strings.Contains(cerr.Stderr, "Connection refused") {
		t.Errorf("CommandError = %+v", cerr)
	}
	if !strings.Contains(err.Error(), "status 255") || !strings.Contains(err.Error(), "Connection refused") {
		t.Errorf("message %q", err)
	}
}

// Like `ssh -f`, a command may leave a background process holding stderr;
// RunShell returns when the shell exits, not when that process does.
func TestRunShellBackgroundChild(t *testing.T) {
	var errb bytes.Buffer
	start := time.Now()
	err := RunShell(context.Background(), "sleep 30 & echo started >&2", nil, &errb)
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 20*time.Second {
		t.Error("RunShell waited for the background child")
	}
	if !strings.Contains(errb.String(), "started") {
		t.Errorf("stderr %q", errb.String())
	}
}

func TestRunShellCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	err := RunShell(ctx, "exec sleep 30", nil, nil)
	var cerr *CommandError
	if !errors.As(err, &cerr) || !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want a CommandError wrapping Canceled", err)
	}
}

func TestDialCommandCat(t *testing.T) {
	conn, err := DialCommand(context.Background(), "cat")
	if err != nil {
		t.Fatal(err)
	}
	msg := "+OK fake greeting\r\nline two\r\n"
	if _, err := io.WriteString(conn, msg); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != msg {
		t.Fatalf("read %q, %v", buf, err)
	}
	conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	var ne net.Error
	if _, err := conn.Read(buf); !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("Read past deadline: %v, want a timeout", err)
	}
	if err := conn.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestDialCommandFailure(t *testing.T) {
	pluginStderr = io.Discard
	defer func() { pluginStderr = os.Stderr }()
	var cerr *CommandError
	if _, err := DialCommand(context.Background(), "/nonexistent/plugin %h"); !errors.As(err, &cerr) {
		t.Errorf("missing program: err = %v, want *CommandError", err)
	}
	if _, err := DialCommand(context.Background(), "   "); !errors.As(err, &cerr) {
		t.Errorf("empty command: err = %v", err)
	}
	// A plugin that fails: the reader sees EOF, Close reports the status and stderr.
	script := t.TempDir() + "/plugin.sh"
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho 'Permission denied (publickey).' >&2\nexit 3\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	conn, err := DialCommand(context.Background(), script)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(conn); err != nil {
		t.Errorf("ReadAll: %v", err)
	}
	err = conn.Close()
	if !errors.As(err, &cerr) || cerr.ExitCode != 3 || !strings.Contains(cerr.Stderr, "Permission denied") {
		t.Errorf("Close: %v, want CommandError status 3 with stderr", err)
	}
	if s := conn.(*CommandConn).Stderr(); !strings.Contains(s, "Permission denied") {
		t.Errorf("Stderr() = %q", s)
	}
}

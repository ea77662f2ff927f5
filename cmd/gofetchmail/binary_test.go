package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
)

// These tests run what a user runs: the real binary, built by the test, in
// a fresh HOME, from a working directory of its own, on a pty where it
// prompts.

// builtBinary builds gofetchmail once per test process with go build, as
// a user does (so Go records the VCS state in it), and returns its path.
var builtBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "gofetchmail-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "gofetchmail")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(gobin, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// binary is the built gofetchmail, or the test fails.
func binary(t *testing.T) string {
	t.Helper()
	bin, err := builtBinary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bin, err := builtBinary(); err == nil {
		os.RemoveAll(filepath.Dir(bin))
	}
	os.Exit(code)
}

type userWorld struct {
	home, cwd string
	env       []string
}

func newUserWorld(t *testing.T) *userWorld {
	t.Helper()
	dir := t.TempDir()
	w := &userWorld{home: filepath.Join(dir, "home"), cwd: filepath.Join(dir, "elsewhere")}
	for _, d := range []string{w.home, w.cwd} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	w.env = []string{"HOME=" + w.home, "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C", "SSH_AUTH_SOCK="}
	return w
}

// writeRC writes a 0600 rc file.
func (w *userWorld) writeRC(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// command is the binary run with args in the world's cwd and environment.
func (w *userWorld) command(t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.Command(binary(t), args...)
	cmd.Dir = w.cwd
	cmd.Env = append([]string(nil), w.env...)
	return cmd
}

// runBinary runs the binary to its end and returns its status and output.
func (w *userWorld) run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := w.command(t, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	t.Logf("(cd %s; gofetchmail %s) -> %d\n%s", w.cwd, strings.Join(args, " "), code, out.String())
	return code, out.String()
}

// popServer is an in-process POP3 server with msgs for joe/secret.
func popServer(t *testing.T, msgs ...pop3test.Message) (*pop3test.Server, *pop3test.Mailbox) {
	t.Helper()
	return popServerPW(t, "secret", msgs...)
}

// popServerPW is popServer with joe's password pw.
func popServerPW(t *testing.T, pw string, msgs ...pop3test.Message) (*pop3test.Server, *pop3test.Mailbox) {
	t.Helper()
	mb := pop3test.NewMailbox("joe", pw, msgs...)
	s, err := pop3test.NewServer(mb, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, mb
}

func testMessage(n int) pop3test.Message {
	return pop3test.Message{UID: fmt.Sprintf("uid-%d", n), Data: []byte(fmt.Sprintf(
		"From: a@example.org\nTo: joe@example.org\nSubject: test %d\nMessage-ID: <%d@example.org>\n\nbody %d\n", n, n, n))}
}

// waitFor polls cond until it holds or a generous limit passes (a hang
// guard, not a speed assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// openPty opens a pseudo-terminal pair with /dev/ptmx.
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Fatalf("ptsname: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Fatalf("open pty slave: %v", err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// ptyOutput collects what the program writes to its terminal.
type ptyOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func readPty(master io.Reader) *ptyOutput {
	o := &ptyOutput{}
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := master.Read(b)
			o.mu.Lock()
			o.buf.Write(b[:n])
			o.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return o
}

func (o *ptyOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// startOnPty starts cmd as a session leader whose controlling terminal is
// the pty's slave side (stdin, stdout and stderr).
func startOnPty(t *testing.T, cmd *exec.Cmd, slave *os.File) {
	t.Helper()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
}

// echoOn reports whether the terminal echoes input.
func echoOn(t *testing.T, slave *os.File) bool {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return tio.Lflag&unix.ECHO != 0
}

// userRun is one run of the built binary in a fresh HOME.
type userRun struct {
	code           int
	stdout, stderr string
}

// runBinary runs the built gofetchmail with args in home (HOME and the
// working directory), with no terminal, as a user's shell would.
func runBinary(t *testing.T, home string, args ...string) userRun {
	t.Helper()
	return runBinaryOut(t, home, false, args...)
}

// runBinaryOut is runBinary; with combined, standard output and error are
// one pipe (as on a terminal) and everything is in stdout, in the order
// written.
func runBinaryOut(t *testing.T, home string, combined bool, args ...string) userRun {
	t.Helper()
	bin, err := builtBinary()
	if err != nil {
		t.Fatalf("go build: %v", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = home
	cmd.Env = []string{"HOME=" + home, "FETCHMAILHOME=" + home, "PATH=/usr/local/go/bin:/usr/bin:/bin", "LANG=C"}
	var so, se strings.Builder
	cmd.Stdout, cmd.Stderr = &so, &se
	if combined {
		cmd.Stderr = &so
	}
	err = cmd.Run()
	r := userRun{stdout: so.String(), stderr: se.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	t.Logf("gofetchmail %s -> %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	return r
}

//go:build interop

package interop

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/gofetchmail/gofetchmail/interop/internal/rigmail"
)

// rig holds the facts scripts/rig-up wrote to $RIG_DIR/env.
var rig map[string]string

// binary is the gofetchmail built once for all tests.
var binary string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir := os.Getenv("RIG_DIR")
	if dir == "" {
		dir = "/tmp/gofetchmail-rig"
	}
	var err error
	rig, err = readEnv(filepath.Join(dir, "env"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "interop: %v: run scripts/rig-up first\n", err)
		return 1
	}
	// INTEROP_GOFETCHMAIL runs the tests against a given binary (or a
	// wrapper around another retriever) instead of building one.
	if binary = os.Getenv("INTEROP_GOFETCHMAIL"); binary != "" {
		return m.Run()
	}
	tmp, err := os.MkdirTemp("", "gofetchmail-interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	binary = filepath.Join(tmp, "gofetchmail")
	build := exec.Command("go", "build", "-o", binary, "./cmd/gofetchmail")
	build.Dir = ".." // the repository root; go test runs in interop/
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "interop: go build ./cmd/gofetchmail: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// readEnv parses the KEY='value' lines rig-up writes.
func readEnv(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s: bad line %q", path, line)
		}
		env[k] = strings.Trim(v, "'")
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, k := range []string{"RIG_POP3_PORT", "RIG_SSH_PORT", "RIG_SSH_HOST_KEY", "RIG_CLIENT_KEY",
		"RIG_MAILDIR", "RIG_ORIGINALS", "RIG_USER"} {
		if env[k] == "" {
			return nil, fmt.Errorf("%s lacks %s", path, k)
		}
	}
	return env, nil
}

// fill replaces the server's mailbox with n generated messages.
func fill(t *testing.T, n int) {
	t.Helper()
	fillMessages(t, rigmail.Generate(n, 2048))
}

// fillMessages replaces the server's mailbox with msgs.
func fillMessages(t *testing.T, msgs []rigmail.Message) {
	t.Helper()
	uid, gid := rigUser(t)
	if err := rigmail.Fill(rig["RIG_MAILDIR"], rig["RIG_ORIGINALS"], msgs, uid, gid); err != nil {
		t.Fatalf("filling the server mailbox (the tests must run as root): %v", err)
	}
}

// rigUser is the uid and gid of the rig's mail user.
func rigUser(t *testing.T) (uid, gid int) {
	t.Helper()
	u, err := user.Lookup(rig["RIG_USER"])
	if err != nil {
		t.Fatal(err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid
}

// verify checks that maildir holds the n messages of the last fill, each
// exactly once.
func verify(t *testing.T, maildir string, n int) {
	t.Helper()
	r, err := rigmail.Verify(maildir, rig["RIG_ORIGINALS"])
	if err != nil {
		t.Fatalf("verify %s: %v", maildir, err)
	}
	if !r.OK() || r.Verified != n {
		t.Errorf("delivered mail: %v, want %d verified", r, n)
		for i, p := range r.Problems {
			if i == 10 {
				t.Logf("... and %d more problems", len(r.Problems)-i)
				break
			}
			t.Log(p)
		}
	}
}

// serverHolds waits (at most 2 s, for dovecot to finish its expunge) until
// the server's mailbox holds n messages and fails if it never does.
func serverHolds(t *testing.T, n int) {
	t.Helper()
	var got int
	for deadline := time.Now().Add(10 * time.Second); ; {
		var err error
		if got, err = rigmail.Count(rig["RIG_MAILDIR"]); err != nil {
			t.Fatal(err)
		}
		if got == n || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got != n {
		t.Errorf("server mailbox holds %d messages, want %d", got, n)
	}
}

// home is a fresh HOME for one gofetchmail run.
type home struct {
	dir string
	bin string // first on PATH; holds an ssh that must not run
}

// newHome makes a HOME (mode 0700) whose ~/.ssh/config names the rig's sshd
// "popserver" with the identity file key, and whose known_hosts holds the
// rig's host key when trustHost is set (else it is empty).
func newHome(t *testing.T, key string, trustHost bool) home {
	t.Helper()
	h := home{dir: t.TempDir()}
	h.bin = filepath.Join(h.dir, "bin")
	sshDir := filepath.Join(h.dir, ".ssh")
	for _, d := range []string{h.dir, h.bin, sshDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	config := fmt.Sprintf("Host popserver\n  HostName 127.0.0.1\n  Port %s\n  User msingh\n  IdentityFile %s\n",
		rig["RIG_SSH_PORT"], key)
	known := ""
	if trustHost {
		known = fmt.Sprintf("[127.0.0.1]:%s %s\n", rig["RIG_SSH_PORT"], rig["RIG_SSH_HOST_KEY"])
	}
	fakeSSH := "#!/bin/sh\necho 'ssh must not be run' >&2\nexit 99\n"
	writeFile(t, filepath.Join(sshDir, "config"), config, 0o600)
	writeFile(t, filepath.Join(sshDir, "known_hosts"), known, 0o600)
	writeFile(t, filepath.Join(h.bin, "ssh"), fakeSSH, 0o755)
	return h
}

// rc writes text as the rc file (mode 0600) and returns its path.
func (h home) rc(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(h.dir, ".fetchmailrc")
	writeFile(t, path, text, 0o600)
	return path
}

// env is the environment of a gofetchmail run: HOME is h, the fake ssh
// first on PATH.
func (h home) env() []string {
	return []string{
		"HOME=" + h.dir,
		"FETCHMAILHOME=" + h.dir, // its own pid file, not root's /var/run/fetchmail.pid
		"PATH=" + h.bin + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"LANG=C.UTF-8",
		"USER=manish",
		"LOGNAME=manish",
	}
}

// maildir is where the runs deliver to.
func (h home) maildir() string { return filepath.Join(h.dir, "Maildir") }

// result is the outcome of one gofetchmail run.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// run runs gofetchmail -f rc --maildir HOME/Maildir with HOME set to h and
// the fake ssh first on PATH; it gives up after a minute.
func (h home) run(t *testing.T, rc string) result {
	t.Helper()
	return h.runArgs(t, "-f", rc, "--maildir", h.maildir())
}

// runArgs runs gofetchmail with args as run does (with -v when
// INTEROP_VERBOSE is set).
func (h home) runArgs(t *testing.T, args ...string) result {
	t.Helper()
	if os.Getenv("INTEROP_VERBOSE") != "" {
		args = append(args, "-v")
	}
	return h.exec(t, args...)
}

// exec runs gofetchmail with exactly args in h; it gives up after a
// minute.
func (h home) exec(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = h.dir
	cmd.Env = h.env()
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("gofetchmail %s did not finish within a minute:\n%v", strings.Join(args, " "), r)
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("running gofetchmail %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// expectExit stops the test unless r ended with code want, showing the
// output and the tails of the server logs.
func expectExit(t *testing.T, r result, want int) {
	t.Helper()
	if r.code == want {
		return
	}
	t.Logf("gofetchmail: %v", r)
	for _, log := range []string{"RIG_DOVECOT_LOG", "RIG_SSHD_LOG"} {
		if data, err := os.ReadFile(rig[log]); err == nil {
			lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
			t.Logf("last lines of %s:\n%s", rig[log], strings.Join(lines[max(0, len(lines)-15):], "\n"))
		}
	}
	t.Fatalf("gofetchmail exited with %d, want %d", r.code, want)
}

// squat listens on addr and answers every connection like a wrong POP3
// server. It returns a counter of the connections it took; if addr is busy
// there is no squatter and the counter stays nil.
func squat(t *testing.T, addr string) *atomic.Int32 {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Logf("no squatter on %s (port busy): %v", addr, err)
		return nil
	}
	t.Cleanup(func() { ln.Close() })
	var hits atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			hits.Add(1)
			c.Write([]byte("-ERR wrong server\r\n"))
			c.Close()
		}
	}()
	return &hits
}

// strangerKey writes a new ed25519 private key that the rig's sshd does not
// authorise and returns its path.
func strangerKey(t *testing.T) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "stranger")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "id_ed25519")
	writeFile(t, path, string(pem.EncodeToMemory(block)), 0o600)
	return path
}

func writeFile(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

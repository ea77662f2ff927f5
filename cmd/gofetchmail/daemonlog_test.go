package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
)

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startDaemon starts the built binary as a foreground daemon (-N) polling
// every second with rc in a fresh home; the test ends it with --quit.
// The daemon is reaped as soon as it ends (as a shell would), so that
// --quit does not wait for a zombie; the channel gives its exit error.
func startDaemon(t *testing.T, home, rc string) (<-chan error, *lockedBuffer) {
	t.Helper()
	bin, err := builtBinary()
	if err != nil {
		t.Fatalf("go build: %v", err)
	}
	out := &lockedBuffer{}
	cmd := exec.Command(bin, "-N", "-d", "1", "-f", rc)
	cmd.Dir = home
	cmd.Env = []string{"HOME=" + home, "FETCHMAILHOME=" + home, "PATH=/usr/bin:/bin", "LANG=C"}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill() // in case the test failed before --quit
	})
	return done, out
}

// waitUntil polls cond (an event, not a speed: the limit only stops a
// test that would hang).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// quitDaemon runs gofetchmail --quit as a user would and waits for the
// daemon to end.
func quitDaemon(t *testing.T, home, rc string, done <-chan error) {
	t.Helper()
	if r := runBinary(t, home, "--quit", "-f", rc); r.code != 0 {
		t.Errorf("--quit exited %d", r.code)
	}
	if err := <-done; err != nil {
		t.Errorf("daemon: %v", err)
	}
}

// A daemon without -v is silent when there is no mail, as fetchmail's is;
// an rc file broken by an edit is logged once, with one program prefix;
// a reload with no IDLE entry does not speak of IDLE sessions.
func TestDaemonLogWithoutMail(t *testing.T) {
	var mu sync.Mutex
	quits := 0
	srv, err := pop3test.NewServer(pop3test.NewMailbox("joe", "pw"), &pop3test.ServerOptions{Hook: func(cmd string) (string, bool) {
		if strings.EqualFold(cmd, "QUIT") {
			mu.Lock()
			quits++
			mu.Unlock()
		}
		return "", false
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	polls := func() int { mu.Lock(); defer mu.Unlock(); return quits }
	home := t.TempDir()
	host, port, _ := net.SplitHostPort(srv.Addr)
	rc := filepath.Join(home, "rc")
	good := "poll " + host + " proto pop3 port " + port + " user joe password pw sslproto '' mda /bin/cat\n"
	if err := os.WriteFile(rc, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	d, out := startDaemon(t, home, rc)
	waitUntil(t, "two polls", func() bool { return polls() >= 2 })
	// A broken edit (the mtime moved on, so that the daemon sees it).
	if err := os.WriteFile(rc, []byte(good+"poll\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	os.Chtimes(rc, later, later)
	waitUntil(t, "the reload's complaint", func() bool { return strings.Contains(out.String(), "keeping the previous configuration") })
	// Fixed again: reloaded, no IDLE entry.
	if err := os.WriteFile(rc, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	later = later.Add(time.Minute)
	os.Chtimes(rc, later, later)
	waitUntil(t, "the reload", func() bool { return strings.Contains(out.String(), "configuration reloaded") })
	n := polls()
	waitUntil(t, "a poll after the reload", func() bool { return polls() > n })
	quitDaemon(t, home, rc, d)
	log := out.String()
	t.Logf("daemon output:\n%s", log)
	for _, bad := range []string{"polling", "No mail", "gofetchmail: gofetchmail", "IDLE", "signal received"} {
		if strings.Contains(log, bad) {
			t.Errorf("the daemon's output has %q", bad)
		}
	}
	if want := "gofetchmail: " + rc + ":3: syntax error at end of input\n"; strings.Count(log, want) != 1 {
		t.Errorf("the broken edit is not logged once as %q", want)
	}
}

// --quit while a poll waits for the server's greeting: the interrupted
// poll is not logged as an error ("pop3: greeting: terminated signal
// received" was).
func TestDaemonQuitDuringPoll(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c // never greets
		}
	}()
	home := t.TempDir()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	rc := filepath.Join(home, "rc")
	if err := os.WriteFile(rc, []byte("poll "+host+" proto pop3 port "+port+" user joe password pw sslproto ''\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d, out := startDaemon(t, home, rc)
	select {
	case c := <-accepted:
		defer c.Close()
	case <-time.After(30 * time.Second):
		t.Fatal("the daemon did not connect")
	}
	quitDaemon(t, home, rc, d)
	log := out.String()
	t.Logf("daemon output:\n%s", log)
	if strings.Contains(log, "greeting") || strings.Contains(log, "signal received") {
		t.Error("the poll interrupted by --quit is logged as an error")
	}
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/fetch"
	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
)

// notifySocket listens where NOTIFY_SOCKET points, as systemd does, and
// delivers each datagram on the returned channel.
func notifySocket(t *testing.T) (string, <-chan string) {
	t.Helper()
	// Short: a unix socket path has at most 107 bytes.
	dir, err := os.MkdirTemp("", "sdn")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ch := make(chan string, 1000)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(ch)
				return
			}
			ch <- string(buf[:n])
		}
	}()
	return path, ch
}

// await returns the first notification for which match is true, failing
// the test if none comes within a minute (a bound for a loaded machine,
// not a speed requirement); seen collects every notification read.
func await(t *testing.T, ch <-chan string, seen *[]string, what string, match func(string) bool) string {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		select {
		case m, ok := <-ch:
			if !ok {
				t.Fatalf("the notification socket closed while waiting for %s; got %s", what, summary(*seen))
			}
			*seen = append(*seen, m)
			if match(m) {
				return m
			}
		case <-deadline:
			t.Fatalf("no %s notification; got %s", what, summary(*seen))
		}
	}
}

// summary lists notifications, each run of keep-alives as one entry.
func summary(seen []string) string {
	var out []string
	for i := 0; i < len(seen); i++ {
		n := 0
		for i < len(seen) && seen[i] == "WATCHDOG=1" {
			n, i = n+1, i+1
		}
		if n > 0 {
			out = append(out, fmt.Sprintf("%d x WATCHDOG=1", n))
		}
		if i < len(seen) {
			out = append(out, fmt.Sprintf("%q", seen[i]))
		}
	}
	return "[" + strings.Join(out, ", ") + "]"
}

func hasLine(msg, line string) bool {
	for _, l := range strings.Split(msg, "\n") {
		if l == line {
			return true
		}
	}
	return false
}

func statusOf(msg string) (string, bool) {
	for _, l := range strings.Split(msg, "\n") {
		if s, ok := strings.CutPrefix(l, "STATUS="); ok {
			return s, true
		}
	}
	return "", false
}

// The daemon, run by systemd as a Type=notify service (the real binary,
// --nodetach -d 300, NOTIFY_SOCKET and WATCHDOG_USEC set as systemd sets
// them), says READY=1 once it is up (pid file written), STATUS= after each
// poll with what it fetched and what failed, WATCHDOG=1 while it waits, and
// STOPPING=1 on --quit, and then exits 0.
func TestSystemdNotifyDaemon(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	sock, notes := notifySocket(t)
	msg := func(n int) pop3test.Message {
		return pop3test.Message{Data: []byte(fmt.Sprintf("From: a@example.org\nSubject: %d\n\nbody %d\n", n, n))}
	}
	box1 := pop3test.NewMailbox("u1", "p1", msg(1), msg(2))
	box2 := pop3test.NewMailbox("u2", "p2", msg(3))
	var servers []*pop3test.Server
	for _, b := range []*pop3test.Mailbox{box1, box2} {
		s, err := pop3test.NewServer(b, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		servers = append(servers, s)
	}
	entry := func(addr, user, pass string) string {
		host, port, _ := net.SplitHostPort(addr)
		return fmt.Sprintf("poll %s proto pop3 port %s user %s password %s sslproto ''\n", host, port, user, pass)
	}
	rc := filepath.Join(dir, "rc")
	rcText := fmt.Sprintf("set idfile %q\n", filepath.Join(dir, "ids")) +
		entry(servers[0].Addr, "u1", "p1") + entry(servers[1].Addr, "u2", "p2")
	if err := os.WriteFile(rc, []byte(rcText), 0o600); err != nil {
		t.Fatal(err)
	}
	maildir := filepath.Join(dir, "Maildir")
	env := append(os.Environ(), "HOME="+dir, "FETCHMAILHOME="+dir, "NOTIFY_SOCKET="+sock,
		"WATCHDOG_USEC=400000", "WATCHDOG_PID=")
	var out bytes.Buffer
	cmd := exec.Command(bin, "--nodetach", "-d", "300", "-f", rc, "--maildir", maildir)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		t.Logf("daemon output:\n%s", out.String())
	})
	var seen []string

	// READY=1 comes first, when the pid file exists.
	first := await(t, notes, &seen, "first", func(string) bool { return true })
	if !hasLine(first, "READY=1") {
		t.Fatalf("first notification %q, want READY=1", first)
	}
	if pid, _, _, _ := readPidfile(filepath.Join(dir, "fetchmail.pid")); pid != cmd.Process.Pid {
		t.Errorf("at READY=1 the pid file names pid %d, want the daemon's %d", pid, cmd.Process.Pid)
	}

	// After the first poll: what it fetched, and when it polls next.
	st := await(t, notes, &seen, "STATUS after the first poll", func(m string) bool {
		s, ok := statusOf(m)
		return ok && strings.HasPrefix(s, "last poll")
	})
	if want := "STATUS=last poll: 3 messages from 2 accounts, next in 300 s"; st != want {
		t.Errorf("status %q, want %q", st, want)
	}
	if n := len(maildirFiles(t, maildir)); n != 3 {
		t.Errorf("%d messages delivered, want 3", n)
	}

	// While it waits for the next poll, the watchdog hears from it.
	await(t, notes, &seen, "WATCHDOG=1", func(m string) bool { return m == "WATCHDOG=1" })
	await(t, notes, &seen, "a second WATCHDOG=1", func(m string) bool { return m == "WATCHDOG=1" })

	// A new message, and a third entry whose server is down: woken, the
	// daemon reloads the rc file, polls, and says what failed.
	box1.Add(msg(4))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := l.Addr().String()
	l.Close()
	if err := os.WriteFile(rc, []byte(rcText+entry(down, "u3", "p3")), 0o600); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(2 * time.Second) // a new mtime, whatever the clock's resolution
	os.Chtimes(rc, future, future)
	if err := cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	st = await(t, notes, &seen, "STATUS after the second poll", func(m string) bool {
		s, ok := statusOf(m)
		return ok && strings.HasPrefix(s, "last poll") && s != "last poll: 3 messages from 2 accounts, next in 300 s"
	})
	wantPrefix := "STATUS=last poll: 1 message from 1 account; 1 of 3 accounts failed: "
	if !strings.HasPrefix(st, wantPrefix) || !strings.HasSuffix(st, "; next in 300 s") || !strings.Contains(st, down) {
		t.Errorf("status %q, want %q, the error naming %s, then \"; next in 300 s\"", st, wantPrefix, down)
	}

	// An edit that breaks the rc file: the daemon polls on with the
	// previous configuration, and its status says so.
	good := rcText + entry(down, "u3", "p3")
	if err := os.WriteFile(rc, []byte(good+"poll broken proto pop9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	future = future.Add(2 * time.Second)
	os.Chtimes(rc, future, future)
	if err := cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	st = await(t, notes, &seen, "STATUS after the broken edit", func(m string) bool {
		return strings.Contains(m, "does not load")
	})
	if want := "STATUS=last poll: no new mail (2 accounts); 1 of 3 accounts failed: "; !strings.HasPrefix(st, want) ||
		!strings.HasSuffix(st, fmt.Sprintf("; next in 300 s (the rc file %s changed and does not load, status 5: polling with the previous configuration)", rc)) {
		t.Errorf("status %q, want %q... and the note that the rc file does not load", st, want)
	}
	if err := os.WriteFile(rc, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}

	// --quit, as a user types it: STOPPING=1, and the daemon exits 0.
	quit := exec.Command(bin, "--quit", "-f", rc)
	quit.Env = env
	if b, err := quit.CombinedOutput(); err != nil {
		t.Fatalf("gofetchmail --quit: %v\n%s", err, b)
	}
	await(t, notes, &seen, "STOPPING=1", func(m string) bool { return hasLine(m, "STOPPING=1") })
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Errorf("daemon exit: %v, want status 0", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the daemon did not exit after --quit")
	}
	for _, m := range seen {
		if hasLine(m, "READY=1") && m != first {
			t.Errorf("READY=1 sent again: %q", m)
		}
	}
}

// systemctl stop sends SIGTERM: the daemon says STOPPING=1 and exits 0,
// even when its rc file has been broken since (the units have no
// ExecStop=gofetchmail --quit, which would have to parse it).
func TestSystemdStopWithBrokenRC(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	sock, notes := notifySocket(t)
	rc := filepath.Join(dir, "rc")
	if err := os.WriteFile(rc, []byte(fmt.Sprintf("set idfile %q\npoll 127.0.0.1 proto pop3 port 9 user u password p sslproto ''\n", filepath.Join(dir, "ids"))), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, "--nodetach", "-d", "300", "-f", rc, "--maildir", filepath.Join(dir, "Maildir"))
	cmd.Env = append(os.Environ(), "HOME="+dir, "FETCHMAILHOME="+dir, "NOTIFY_SOCKET="+sock, "WATCHDOG_USEC=")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		t.Logf("daemon output:\n%s", out.String())
	})
	var seen []string
	await(t, notes, &seen, "READY=1", func(m string) bool { return hasLine(m, "READY=1") })
	await(t, notes, &seen, "STATUS after the poll", func(m string) bool { return strings.HasPrefix(m, "STATUS=last poll") })
	if err := os.WriteFile(rc, []byte("poll broken proto pop9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	await(t, notes, &seen, "STOPPING=1", func(m string) bool { return hasLine(m, "STOPPING=1") })
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Errorf("daemon exit: %v, want status 0", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the daemon did not exit on SIGTERM")
	}
	if _, err := os.Stat(filepath.Join(dir, "fetchmail.pid")); !os.IsNotExist(err) {
		t.Errorf("pid file left behind: %v", err)
	}
}

// Without WATCHDOG_USEC (a unit without WatchdogSec=) the daemon sends no
// keep-alives, only READY=1 and STATUS.
func TestSystemdNotifyNoWatchdog(t *testing.T) {
	sock, notes := notifySocket(t)
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "")
	var logs bytes.Buffer
	sd := newSDNotifier(slog.New(slog.NewTextHandler(&logs, nil)))
	sd.ready()
	if sig := sd.sleep(context.Background(), nil, 300*time.Millisecond); sig != nil {
		t.Fatalf("woken by %v", sig)
	}
	sd.status("x")
	var seen []string
	await(t, notes, &seen, "STATUS=x", func(m string) bool { return m == "STATUS=x" })
	for _, m := range seen {
		if strings.Contains(m, "WATCHDOG") {
			t.Errorf("keep-alive without a watchdog: %q", m)
		}
	}
	if logs.Len() > 0 {
		t.Errorf("logged: %s", logs.String())
	}
}

// A poll that shows no sign of life for the stall limit stops the
// keep-alives, with one error line, so that systemd restarts the daemon; a
// finished message is a sign of life, and the keep-alives resume.
func TestSystemdWatchdogStalledPoll(t *testing.T) {
	sock, notes := notifySocket(t)
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "100000") // keep-alives every 50 ms
	t.Setenv("WATCHDOG_PID", "")
	logs := &syncBuffer{}
	sd := newSDNotifier(slog.New(slog.NewTextHandler(logs, nil)))
	release := make(chan struct{})
	live := sd.progress(nil)
	resumed := make(chan struct{})
	done := make(chan pollResult, 1)
	go func() {
		done <- sd.poll(context.Background(), 500*time.Millisecond, func() pollResult {
			<-release // hung, until the test says
			live(fetch.Progress{})
			<-resumed
			return pollResult{code: 0}
		})
	}()
	var seen []string
	await(t, notes, &seen, "WATCHDOG=1 while the poll is young", func(m string) bool { return m == "WATCHDOG=1" })
	// Wait for the stall to be noticed, then for two more ticks' worth:
	// nothing may come.
	for !strings.Contains(logs.String(), "no longer telling systemd's watchdog") {
		time.Sleep(20 * time.Millisecond)
	}
	drain := func() []string {
		var got []string
		for {
			select {
			case m := <-notes:
				got = append(got, m)
			default:
				return got
			}
		}
	}
	drain()
	time.Sleep(300 * time.Millisecond)
	if got := drain(); len(got) > 0 {
		t.Errorf("keep-alives sent for a stalled poll: %q", got)
	}
	if n := strings.Count(logs.String(), "no longer telling"); n != 1 {
		t.Errorf("the stall is logged %d times, want once:\n%s", n, logs.String())
	}
	close(release)
	await(t, notes, &seen, "WATCHDOG=1 after the poll shows life again", func(m string) bool { return m == "WATCHDOG=1" })
	close(resumed)
	<-done
}

// A cancelled context (SIGTERM from systemctl stop, or --quit) sends
// STOPPING=1 at once, while the poll is still finishing.
func TestSystemdStoppingDuringPoll(t *testing.T) {
	sock, notes := notifySocket(t)
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "")
	sd := newSDNotifier(slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	finish := make(chan struct{})
	done := make(chan pollResult, 1)
	go func() {
		done <- sd.poll(ctx, time.Hour, func() pollResult { <-finish; return pollResult{} })
	}()
	cancel()
	var seen []string
	await(t, notes, &seen, "STOPPING=1", func(m string) bool { return hasLine(m, "STOPPING=1") })
	close(finish)
	<-done
	sd.stop() // the daemon loop's own call at exit: not sent twice
	sd.status("end")
	await(t, notes, &seen, "STATUS=end", func(m string) bool { return m == "STATUS=end" })
	if n := strings.Count(strings.Join(seen, "\n"), "STOPPING=1"); n != 1 {
		t.Errorf("STOPPING=1 sent %d times: %q", n, seen)
	}
}

func TestPollStatus(t *testing.T) {
	refused := fmt.Errorf("connect to 127.0.0.1:9: connection refused")
	for _, c := range []struct {
		r    pollResult
		want string
	}{
		{pollResult{0, []fetch.Result{{Delivered: 2}, {Delivered: 1}}}, "last poll: 3 messages from 2 accounts, next in 300 s"},
		{pollResult{0, []fetch.Result{{Delivered: 1}, {}}}, "last poll: 1 message from 1 account, next in 300 s"},
		{pollResult{1, []fetch.Result{{}, {}}}, "last poll: no new mail (2 accounts), next in 300 s"},
		{pollResult{2, []fetch.Result{{Err: refused}}}, "last poll: 1 of 1 account failed: connect to 127.0.0.1:9: connection refused; next in 300 s"},
		{pollResult{2, []fetch.Result{{}, {Err: refused}}}, "last poll: no new mail (1 account); 1 of 2 accounts failed: connect to 127.0.0.1:9: connection refused; next in 300 s"},
		{pollResult{10, []fetch.Result{{Delivered: 1}, {Skipped: 1}}}, "last poll: 1 message from 1 account, 1 message left on the server (see the log), next in 300 s"},
		{pollResult{10, []fetch.Result{{Skipped: 2}, {Err: refused}}}, "last poll: 2 messages left on the server (see the log); 1 of 2 accounts failed: connect to 127.0.0.1:9: connection refused; next in 300 s"},
		{pollResult{1, nil}, "last poll: no account due in this cycle (interval); next in 300 s"},
		{pollResult{11, nil}, "last poll: failed (status 11, see the log); next in 300 s"},
	} {
		if got := pollStatus(c.r, 300); got != c.want {
			t.Errorf("pollStatus(%+v) = %q, want %q", c.r, got, c.want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

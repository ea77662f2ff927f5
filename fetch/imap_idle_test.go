package fetch

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/imap/imaptest"
)

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func countFiles(dir string) int {
	n := 0
	for _, sub := range []string{"new", "cur"} {
		names, _ := filepath.Glob(filepath.Join(dir, sub, "*"))
		n += len(names)
	}
	return n
}

// Two idle entries in one Runner: each gets its IDLE session; mail
// delivered to either server while idling is fetched without a new cycle;
// a server dropping the connection is reconnected to.
func TestRunnerIdleTwoAccounts(t *testing.T) {
	a := newIMAPEnv(t, nil, "idle")
	b := newIMAPEnv(t, nil, "idle keep")
	// imapmemserver may miss announcing a message that arrives while a
	// session selects its mailbox; a short idletimeout (a poll after each)
	// keeps such a test from waiting 28 minutes. The interop test checks
	// real announcements with dovecot.
	a.job.Server.IdleTimeout, b.job.Server.IdleTimeout = 2, 2
	b.uids = a.uids // one daemon, one idfile
	a.add(t, "INBOX", "a0")
	b.add(t, "INBOX", "b0")
	// One cycle with both jobs; distinct poll names keep the labels apart.
	b.job.Server.Pollname = "localhost"
	r := NewRunner(a.opts)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res := r.Run(ctx, []Job{a.job, b.job}, a.uids)
	if len(res) != 0 {
		t.Fatalf("the idle jobs were polled by the cycle: %+v", res)
	}
	waitFor(t, "the first polls", func() bool { return countFiles(a.maildir) == 1 && countFiles(b.maildir) == 1 })
	for i := 1; i <= 3; i++ {
		a.add(t, "INBOX", fmt.Sprint("a", i))
		b.add(t, "INBOX", fmt.Sprint("b", i))
		waitFor(t, fmt.Sprintf("message %d through IDLE", i), func() bool {
			return countFiles(a.maildir) == 1+i && countFiles(b.maildir) == 1+i
		})
	}
	// A message is in the maildir before it is expunged (a) or marked
	// \Seen (b): wait for the server's side too.
	waitFor(t, "a's server to be emptied", func() bool { n, _ := a.count(t, "INBOX"); return n == 0 })
	waitFor(t, "b (keep) to hold 4 messages, all seen", func() bool { n, u := b.count(t, "INBOX"); return n == 4 && u == 0 })
	// A second cycle starts nothing new and polls nothing.
	if res := r.Run(ctx, []Job{a.job, b.job}, a.uids); len(res) != 0 {
		t.Errorf("second cycle: %+v", res)
	}
	if st, err := r.Store(a.uids.Path()); err != nil || st != a.uids {
		t.Errorf("Store does not return the idlers' store: %v", err)
	}
	// The server goes away and comes back (a new mailbox): the IDLE
	// session reconnects and fetches what is there.
	addr := a.srv.Addr
	a.srv.Close()
	srv, err := imaptest.NewServer("msingh", "foobar", &imaptest.Options{Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.Append("INBOX", imapMsg("after-restart")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reconnection", func() bool { return countFiles(a.maildir) == 5 })
	r.Close()
	data, _ := os.ReadFile(a.uids.Path())
	if !strings.Contains(string(data), "msingh@localhost/INBOX") {
		t.Errorf("idfile:\n%s", data)
	}
	log := a.log.String()
	if strings.Count(log, "IMAP> ") == 0 || !strings.Contains(log, "IDLE") {
		t.Errorf("no IDLE in the log:\n%s", log)
	}
}

// idleWanted: only IMAP entries with idle.
func TestIdleWanted(t *testing.T) {
	e := newIMAPEnv(t, nil, "idle")
	if !idleWanted(e.job) {
		t.Error("imap + idle not wanted")
	}
	e.rejob(t, "pop3", "idle")
	if idleWanted(e.job) {
		t.Error("pop3 + idle wanted")
	}
	e.rejob(t, "imap", "")
	if idleWanted(e.job) {
		t.Error("imap without idle wanted")
	}
}

// A reloaded configuration restarts the IDLE sessions with it.
func TestRunnerIdleReload(t *testing.T) {
	e := newIMAPEnv(t, nil, "idle")
	e.job.Server.IdleTimeout = 2 // see TestRunnerIdleTwoAccounts
	r := NewRunner(e.opts)
	closed := false
	defer func() {
		if !closed {
			r.Close()
		}
	}()
	ctx := context.Background()
	r.Run(ctx, []Job{e.job}, e.uids)
	e.add(t, "INBOX", "m1")
	waitFor(t, "m1", func() bool { return countFiles(e.maildir) == 1 })
	// m1 is on disk before it is expunged: a reload in between leaves it
	// on the server (seen, kept by the new configuration), which is right
	// but not what this test counts.
	waitFor(t, "m1 expunged", func() bool { n, _ := e.count(t, "INBOX"); return n == 0 })
	e.rejob(t, "imap", "idle keep") // a new configuration: keep now
	e.job.Server.IdleTimeout = 2
	r.Run(ctx, []Job{e.job}, e.uids)
	e.add(t, "INBOX", "m2")
	waitFor(t, "m2", func() bool { return countFiles(e.maildir) == 2 })
	waitFor(t, "m2 kept", func() bool { n, _ := e.count(t, "INBOX"); return n == 1 })
	r.Close() // the log is read after the sessions ended
	closed = true
	if !strings.Contains(e.log.String(), "restarting the IDLE sessions") {
		t.Error("the reload did not restart the IDLE sessions")
	}
}

// noIdleProxy forwards to target, removing IDLE from every capability
// list the server sends (line by line).
func noIdleProxy(t *testing.T, target string) string {
	t.Helper()
	return serveLoopback(t, nil, proxyTo(target,
		func(c, s net.Conn) { io.Copy(s, c); s.Close() },
		func(c, s net.Conn) {
			br := bufio.NewReader(s)
			for {
				line, err := br.ReadString('\n')
				if strings.Contains(line, "CAPABILITY") {
					line = strings.ReplaceAll(line, " IDLE", "")
				}
				if _, werr := io.WriteString(c, line); werr != nil || err != nil {
					return
				}
			}
		}))
}

// A server without IDLE is polled with NOOP; new mail it announces is
// fetched without a new cycle.
func TestRunnerIdleNoopFallback(t *testing.T) {
	old := noopInterval
	noopInterval = 20 * time.Millisecond
	defer func() { noopInterval = old }()
	e := newIMAPEnv(t, nil, "idle")
	e.rejobAt(t, noIdleProxy(t, e.srv.Addr), "imap", "idle")
	r := NewRunner(e.opts)
	r.Run(context.Background(), []Job{e.job}, e.uids)
	for i := 1; i <= 2; i++ {
		e.add(t, "INBOX", fmt.Sprint("m", i))
		waitFor(t, fmt.Sprint("message ", i), func() bool { return countFiles(e.maildir) == i })
	}
	r.Close()
	log := e.log.String()
	if !strings.Contains(log, "the server has no IDLE") || regexp.MustCompile(`IMAP> T\d+ IDLE\b`).MatchString(log) ||
		!regexp.MustCompile(`IMAP> T\d+ NOOP\b`).MatchString(log) {
		t.Errorf("not the NOOP fallback:\n%s", log)
	}
}

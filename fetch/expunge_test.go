package fetch

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
)

// commandCounter counts the commands a fake server sees, by verb, and lets
// a test script replies to some of them.
type commandCounter struct {
	mu     sync.Mutex
	counts map[string]int
	reply  func(cmd string) (string, bool) // optional
}

func (c *commandCounter) hook(cmd string) (string, bool) {
	c.mu.Lock()
	if c.counts == nil {
		c.counts = map[string]int{}
	}
	verb, _, _ := strings.Cut(cmd, " ")
	c.counts[strings.ToUpper(verb)]++
	reply := c.reply
	c.mu.Unlock()
	if reply != nil {
		return reply(cmd)
	}
	return "", false
}

func (c *commandCounter) count(verb string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[verb]
}

var subjectRE = regexp.MustCompile(`(?m)^Subject: test (\d+)$`)

// subjects lists the test numbers of the delivered messages, sorted, and
// fails on a message delivered twice.
func (e *testEnv) subjects(t *testing.T) []string {
	t.Helper()
	var out []string
	seen := map[string]bool{}
	for _, m := range e.delivered(t) {
		sm := subjectRE.FindStringSubmatch(m)
		if sm == nil {
			t.Fatalf("delivered message without a test subject:\n%s", m)
		}
		if seen[sm[1]] {
			t.Errorf("message %s delivered twice", sm[1])
		}
		seen[sm[1]] = true
		out = append(out, sm[1])
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) < len(out[j]) || len(out[i]) == len(out[j]) && out[i] < out[j] })
	return out
}

func numbers(from, to int) string {
	var s []string
	for i := from; i <= to; i++ {
		s = append(s, fmt.Sprint(i))
	}
	return strings.Join(s, " ")
}

// expunge N ends the session with QUIT after every N retrieved messages and
// logs in again; every message arrives once and the server ends up empty.
func TestExpungeSplitsPollIntoSessions(t *testing.T) {
	cases := []struct {
		name      string
		expunge   int
		keep      bool
		sessions  int
		remaining int
	}{
		{"expunge 3 of 7", 3, false, 3, 0},
		{"expunge 7 of 7", 7, false, 1, 0},
		{"expunge 1 of 7", 1, false, 7, 0},
		{"expunge 0", 0, false, 1, 0},
		{"keep ignores expunge", 2, true, 1, 7},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cc := &commandCounter{}
			e := newTestEnv(t, testMessages(7), &pop3test.ServerOptions{Hook: cc.hook})
			e.job.User.Expunge, e.job.User.Keep = c.expunge, c.keep
			res := e.poll(t)
			if res.Err != nil || res.Status != StatusSuccess {
				t.Fatalf("result %+v\n%s", res, e.log)
			}
			if got := strings.Join(e.subjects(t), " "); got != numbers(1, 7) {
				t.Errorf("delivered %q, want each of 1..7 once", got)
			}
			if q, p := cc.count("QUIT"), cc.count("PASS"); q != c.sessions || p != c.sessions {
				t.Errorf("%d QUITs and %d logins, want %d sessions", q, p, c.sessions)
			}
			if n := len(e.mbox.Messages()); n != c.remaining {
				t.Errorf("%d messages left on the server, want %d", n, c.remaining)
			}
			wantDeleted := 7 - c.remaining
			if res.Waiting != 7 || res.Delivered != 7 || res.Deleted != wantDeleted || res.Skipped != 0 {
				t.Errorf("result %+v, want waiting 7, delivered 7, deleted %d", res, wantDeleted)
			}
			// A second poll finds nothing new.
			if res := e.poll(t); res.Status != StatusNoMail || res.Delivered != 0 {
				t.Errorf("second poll %+v, want no mail", res)
			}
		})
	}
}

// fetchlimit counts across the sessions expunge makes, as in fetchmail
// (expunge 2, fetchlimit 3: two sessions, three messages, status 13).
func TestExpungeWithFetchlimit(t *testing.T) {
	cc := &commandCounter{}
	e := newTestEnv(t, testMessages(5), &pop3test.ServerOptions{Hook: cc.hook})
	e.job.User.Expunge, e.job.User.Fetchlimit = 2, 3
	res := e.poll(t)
	if res.Err != nil || res.Status != StatusMaxFetch || res.Delivered != 3 || res.Deleted != 3 {
		t.Fatalf("result %+v, want 3 delivered and deleted, status 13\n%s", res, e.log)
	}
	if got := strings.Join(e.subjects(t), " "); got != "1 2 3" {
		t.Errorf("delivered %q, want 1 2 3", got)
	}
	if q := cc.count("QUIT"); q != 2 {
		t.Errorf("%d sessions, want 2", q)
	}
	if n := len(e.mbox.Messages()); n != 2 {
		t.Errorf("%d left on the server, want 2", n)
	}
}

// A message that cannot be retrieved is left on the server and not tried
// again by the later sessions of the same poll; the others all arrive.
func TestExpungeSkipsFailedMessageInLaterSessions(t *testing.T) {
	cc := &commandCounter{}
	cc.reply = func(cmd string) (string, bool) {
		// Message "uid-0001" is always number 1 (nothing before it is
		// ever deleted): refuse it.
		if cmd == "RETR 1" {
			return "-ERR cannot read message", true
		}
		return "", false
	}
	e := newTestEnv(t, testMessages(5), &pop3test.ServerOptions{Hook: cc.hook})
	e.job.User.Expunge = 2
	res := e.poll(t)
	if res.Err != nil || res.Status != StatusSuccess {
		t.Fatalf("result %+v\n%s", res, e.log)
	}
	if got := strings.Join(e.subjects(t), " "); got != "2 3 4 5" {
		t.Errorf("delivered %q, want 2 3 4 5", got)
	}
	if res.Delivered != 4 || res.Skipped != 1 || res.Deleted != 4 {
		t.Errorf("result %+v, want 4 delivered and deleted, 1 skipped", res)
	}
	if r := cc.count("RETR"); r != 5 {
		t.Errorf("%d RETRs, want 5 (the failed message is not tried again in the same poll)", r)
	}
	if q := cc.count("QUIT"); q != 3 {
		t.Errorf("%d sessions, want 3 ({1,2}, {3,4}, {5})", q)
	}
	left := e.mbox.Messages()
	if len(left) != 1 || left[0].UID != "uid-0001" {
		t.Errorf("left on the server: %v, want only uid-0001", left)
	}
}

// The point of expunge: a line drop in a later session keeps the deletions
// the earlier sessions' QUITs made final; the next poll delivers the rest,
// nothing twice.
func TestExpungeLineDropKeepsEarlierDeletions(t *testing.T) {
	cc := &commandCounter{}
	var drop sync.Once
	var dropping atomic.Bool
	dropping.Store(true)
	cc.reply = func(cmd string) (string, bool) {
		// The third session (after two QUITs) loses its line at its
		// first RETR.
		if dropping.Load() && strings.HasPrefix(cmd, "RETR") && cc.count("QUIT") == 2 {
			hit := false
			drop.Do(func() { hit = true })
			if hit {
				return pop3test.HookClose, true
			}
		}
		return "", false
	}
	e := newTestEnv(t, testMessages(7), &pop3test.ServerOptions{Hook: cc.hook})
	e.job.User.Expunge = 2
	res := e.poll(t)
	if res.Err == nil {
		t.Fatalf("poll should fail at the drop: %+v", res)
	}
	if res.Delivered != 4 || res.Deleted != 4 {
		t.Errorf("result %+v, want 4 delivered and deleted before the drop", res)
	}
	if n := len(e.mbox.Messages()); n != 3 {
		t.Fatalf("%d on the server after the drop, want 3 (two QUITs made 4 deletions final)", n)
	}
	dropping.Store(false)
	res = pollUntilUnlocked(t, e)
	if res.Err != nil || res.Delivered != 3 {
		t.Fatalf("second poll %+v\n%s", res, e.log)
	}
	if got := strings.Join(e.subjects(t), " "); got != numbers(1, 7) {
		t.Errorf("delivered %q, want each of 1..7 once", got)
	}
	if n := len(e.mbox.Messages()); n != 0 {
		t.Errorf("%d left on the server", n)
	}
}

// pollUntilUnlocked polls until the fake server has released the mailbox of
// a dropped session (it does so a moment after the drop).
func pollUntilUnlocked(t *testing.T, e *testEnv) Result {
	t.Helper()
	var res Result
	for range 50 {
		if res = e.poll(t); res.Status != StatusLockBusy {
			return res
		}
		time.Sleep(100 * time.Millisecond)
	}
	return res
}

// A server that answers DELE but deletes nothing cannot make a poll with
// expunge N deliver a message twice (with UIDs) or run forever (without).
func TestExpungeServerThatDoesNotDelete(t *testing.T) {
	for _, uidl := range []bool{true, false} {
		t.Run(fmt.Sprintf("UIDL %v", uidl), func(t *testing.T) {
			cc := &commandCounter{reply: func(cmd string) (string, bool) {
				switch {
				case strings.HasPrefix(cmd, "DELE "):
					return "+OK pretending", true
				case cmd == "UIDL" && !uidl:
					return "-ERR no UIDL here", true
				}
				return "", false
			}}
			e := newTestEnv(t, testMessages(7), &pop3test.ServerOptions{Hook: cc.hook})
			e.job.User.Expunge = 2
			res := e.poll(t)
			if res.Err != nil {
				t.Fatalf("result %+v\n%s", res, e.log)
			}
			if q := cc.count("QUIT"); q > 5 {
				t.Errorf("%d sessions, want at most 5 (4 for 7 messages by 2, plus one)", q)
			}
			if uidl {
				if got := strings.Join(e.subjects(t), " "); got != numbers(1, 7) {
					t.Errorf("delivered %q, want each of 1..7 once", got)
				}
			}
			if n := len(e.mbox.Messages()); n != 7 {
				t.Errorf("%d on the server, want all 7 (it deletes nothing)", n)
			}
		})
	}
}

package fetch

// Hostile and broken POP3 servers: for each misbehaviour a poll must
// return (within its timeout, here 1 s, when the server stalls), report
// what happened, never panic, and delete nothing it did not deliver; the
// maildir holds no partial and no duplicate message. A second, well-behaved
// poll then delivers every message exactly once.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/ledger"
	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
)

// script answers a command in place of the fake server while a hostile
// poll runs. raw is the session's connection, for replies a Hook string
// cannot express (endless data, data then a close); it may only be
// written to on a command whose predecessors' replies were flushed (the
// first of a pipelined burst, e.g. "RETR 1").
type script func(cmd string, raw net.Conn) (reply string, handled bool)

// hostileEnv is a testEnv whose server follows a script until calm is set.
type hostileEnv struct {
	*testEnv
	calm atomic.Bool
	mu   sync.Mutex
	raw  net.Conn
}

func newHostileEnv(t *testing.T, msgs []pop3test.Message, sc script) *hostileEnv {
	t.Helper()
	h := &hostileEnv{}
	hook := func(cmd string) (string, bool) {
		if h.calm.Load() || sc == nil {
			return "", false
		}
		h.mu.Lock()
		raw := h.raw
		h.mu.Unlock()
		return sc(cmd, raw)
	}
	h.testEnv = newTestEnv(t, msgs, &pop3test.ServerOptions{Hook: hook})
	// Our own listener, so that the script can reach the raw connection.
	t.Cleanup(func() { h.srv.Close() })
	addr := serveLoopback(t, nil, func(c net.Conn) {
		h.mu.Lock()
		h.raw = c
		h.mu.Unlock()
		h.srv.ServeConn(c)
	})
	h.job = testJob(t, addr)
	h.job.User.Maildir = &h.maildir
	h.job.Server.Timeout = 1
	return h
}

// pollGuarded polls, failing the test (instead of hanging it) if the poll
// does not return within a minute: far beyond any timeout involved.
func (e *testEnv) pollGuarded(t *testing.T) Result {
	t.Helper()
	done := make(chan Result, 1)
	go func() {
		res := Run(context.Background(), []Job{e.job}, e.uids, e.opts)
		done <- res[0]
	}()
	select {
	case r := <-done:
		return r
	case <-time.After(time.Minute):
		t.Fatal("the poll hangs")
		return Result{}
	}
}

// stripReceived removes the Received header stageOne prepends.
func stripReceived(m string) string {
	if !strings.HasPrefix(m, "Received:") {
		return m
	}
	i := strings.Index(m, "\n")
	for i >= 0 && i+1 < len(m) && m[i+1] == '\t' {
		j := strings.Index(m[i+1:], "\n")
		if j < 0 {
			return ""
		}
		i += 1 + j
	}
	return m[i+1:]
}

// checkSafe asserts the invariants after any poll: every message in the
// maildir is a complete copy of exactly one original, none twice, no
// temporary file is left, and every original gone from the server was
// delivered. It returns how many originals were delivered.
func (e *testEnv) checkSafe(t *testing.T, all []pop3test.Message) int {
	t.Helper()
	return e.checkDelivered(t, all, false)
}

// checkDelivered is checkSafe; with allowDup it tolerates messages
// delivered twice (a server without usable UIDs makes that unavoidable).
func (e *testEnv) checkDelivered(t *testing.T, all []pop3test.Message, allowDup bool) int {
	t.Helper()
	count := map[string]int{}
	for _, m := range e.delivered(t) {
		body := stripReceived(m)
		found := false
		for _, o := range all {
			if body == string(o.Data) {
				count[o.UID]++
				found = true
			}
		}
		if !found {
			t.Errorf("maildir holds a message that matches no original (partial or corrupt), %d bytes: %.200q", len(m), m)
		}
	}
	if tmp, _ := os.ReadDir(filepath.Join(e.maildir, "tmp")); len(tmp) > 0 {
		t.Errorf("%d files left in maildir/tmp", len(tmp))
	}
	left := map[string]bool{}
	for _, m := range e.mbox.Messages() {
		left[m.UID] = true
	}
	for _, o := range all {
		if count[o.UID] > 1 && !allowDup {
			t.Errorf("%s delivered %d times", o.UID, count[o.UID])
		}
		if !left[o.UID] && count[o.UID] == 0 {
			t.Errorf("%s deleted on the server but never delivered: LOST", o.UID)
		}
	}
	return len(count)
}

// calmPoll ends the misbehaviour and polls normally: everything must end
// up delivered exactly once and the server empty.
func (h *hostileEnv) calmPoll(t *testing.T, all []pop3test.Message) {
	t.Helper()
	h.calm.Store(true)
	h.job.Server.Timeout = 60
	res := h.pollGuarded(t)
	// The fake server may not have noticed yet that the hostile session's
	// connection is gone; until it does, the mailbox is locked.
	for i := 0; i < 100 && StatusOf(res.Err) == StatusLockBusy; i++ {
		time.Sleep(50 * time.Millisecond)
		res = h.pollGuarded(t)
	}
	if res.Err != nil {
		t.Fatalf("calm poll after the hostile one: %v", res.Err)
	}
	if n := h.checkSafe(t, all); n != len(all) {
		t.Errorf("after the calm poll %d of %d messages delivered", n, len(all))
	}
	if n := len(h.mbox.Messages()); n != 0 {
		t.Errorf("after the calm poll %d messages left on the server", n)
	}
}

// Reply helpers for scripts.
func on(verb string, reply string) script {
	return func(cmd string, _ net.Conn) (string, bool) {
		if cmd == verb || strings.HasPrefix(cmd, verb+" ") {
			return reply, true
		}
		return "", false
	}
}

func onExact(line string, reply string) script {
	return func(cmd string, _ net.Conn) (string, bool) {
		if cmd == line {
			return reply, true
		}
		return "", false
	}
}

// stallFrom is sc, after which the server goes silent: once sc has
// answered a command, every later command gets no reply either. (A server
// that skips the reply to one pipelined command but answers the next ones
// shifts every reply onto the wrong command; no client can tell, see
// docs/reliability.md.)
func stallFrom(sc script) script {
	var silent atomic.Bool
	return func(cmd string, raw net.Conn) (string, bool) {
		if silent.Load() {
			return "", true
		}
		r, ok := sc(cmd, raw)
		if ok {
			silent.Store(true)
		}
		return r, ok
	}
}

// rawOn answers the command line by running write on the raw connection,
// then dropping it.
func rawOn(line string, write func(c net.Conn)) script {
	return func(cmd string, raw net.Conn) (string, bool) {
		if cmd != line {
			return "", false
		}
		write(raw)
		return pop3test.HookClose, true
	}
}

// endlessListing writes a multi-line answer that never ends.
func endlessListing(c net.Conn) {
	c.Write([]byte("+OK\r\n"))
	var b []byte
	for i := 1; ; i++ {
		b = fmt.Appendf(b[:0], "%d %d\r\n", i, i)
		if _, err := c.Write(b); err != nil {
			return
		}
	}
}

func hostileMessages() []pop3test.Message {
	msgs := testMessages(3)
	// Make them distinguishable after the Received header is removed.
	return msgs
}

type errWant int

const (
	errAny errWant = iota // the poll may or may not fail; the invariants hold
	errYes                // the poll must report a failure
	errNo                 // the poll must succeed
)

func TestHostileServers(t *testing.T) {
	// Lower the endless-message cap so that that case stays small: 1 MiB
	// over the LIST size.
	old := messageSlack
	messageSlack = 1 << 20
	t.Cleanup(func() { messageSlack = old })

	long := strings.Repeat("7", 2<<20)
	cases := []struct {
		name string
		sc   script
		err  errWant
		says string // the error or the log reports this
	}{
		// -ERR in odd places.
		{"err-STAT", on("STAT", "-ERR no stat today"), errYes, "no stat today"},
		{"err-UIDL", on("UIDL", "-ERR no UIDL"), errNo, "no UIDL"},
		{"err-LIST", on("LIST", "-ERR no list"), errYes, "no list"},
		{"err-RETR1", onExact("RETR 1", "-ERR cannot read it"), errAny, "cannot read it"},
		{"err-RETR2", onExact("RETR 2", "-ERR cannot read it"), errAny, "cannot read it"},
		{"err-DELE1", onExact("DELE 1", "-ERR not deleting"), errYes, "not deleting"},
		{"err-DELE3", onExact("DELE 3", "-ERR not deleting"), errYes, "not deleting"},
		{"err-QUIT", on("QUIT", "-ERR not quitting"), errYes, "not quitting"},
		// The connection closed at every step.
		{"close-CAPA", on("CAPA", pop3test.HookClose), errYes, "CAPA"},
		{"close-USER", on("USER", pop3test.HookClose), errYes, "USER"},
		{"close-PASS", on("PASS", pop3test.HookClose), errYes, "PASS"},
		{"close-STAT", on("STAT", pop3test.HookClose), errYes, "STAT"},
		{"close-UIDL", on("UIDL", pop3test.HookClose), errYes, "UIDL"},
		{"close-LIST", on("LIST", pop3test.HookClose), errYes, "LIST"},
		{"close-RETR1", onExact("RETR 1", pop3test.HookClose), errYes, "RETR"},
		{"close-RETR3", onExact("RETR 3", pop3test.HookClose), errYes, "RETR"},
		{"close-DELE1", onExact("DELE 1", pop3test.HookClose), errYes, "DELE"},
		{"close-DELE3", onExact("DELE 3", pop3test.HookClose), errYes, "DELE"},
		{"close-QUIT", on("QUIT", pop3test.HookClose), errYes, "QUIT"},
		// Stalls: the rc timeout (1 s) must end the poll.
		{"stall-CAPA", stallFrom(on("CAPA", "")), errYes, "timeout"},
		{"stall-PASS", stallFrom(on("PASS", "")), errYes, "timeout"},
		{"stall-LIST", stallFrom(on("LIST", "")), errYes, "timeout"},
		{"stall-RETR1", stallFrom(onExact("RETR 1", "")), errYes, "timeout"},
		{"stall-DELE1", stallFrom(onExact("DELE 1", "")), errYes, "timeout"},
		{"stall-QUIT", stallFrom(on("QUIT", "")), errYes, "timeout"},
		// A message without its terminating dot: the server stalls, or
		// closes the connection.
		{"nodot-stall", stallFrom(onExact("RETR 1", "+OK\r\nSubject: cut\r\n\r\nhalf a mess")), errYes, "timeout"},
		{"nodot-close", rawOn("RETR 1", func(c net.Conn) {
			c.Write([]byte("+OK\r\nFrom: a@example.org\r\nSubject: cut\r\n\r\nhalf a message\r\n"))
		}), errYes, "unexpected EOF"},
		// An endless message: the size cap ends it.
		{"endless", rawOn("RETR 1", func(c net.Conn) {
			c.Write([]byte("+OK\r\nSubject: endless\r\n\r\n"))
			line := []byte(strings.Repeat("x", 998) + "\r\n")
			chunk := bytes.Repeat(line, 64)
			for {
				if _, err := c.Write(chunk); err != nil {
					return
				}
			}
		}), errYes, "does not end it"},
		// Listings that never end: the client gives up on them.
		{"endless-CAPA", rawOn("CAPA", endlessListing), errYes, "goes on past"},
		{"endless-UIDL", rawOn("UIDL", endlessListing), errYes, "goes on past"},
		// Lines over a megabyte where a status or list line is expected.
		{"long-STAT", on("STAT", "+OK 3 "+long), errYes, "line longer"},
		{"long-UIDL", on("UIDL", "+OK\r\n1 "+long+"\r\n.\r\n"), errYes, "line longer"},
		{"long-CAPA-err", on("CAPA", "-ERR "+long), errYes, "line longer"},
		// LIST sizes that lie: too small, absurd, malformed.
		{"list-small", on("LIST", "+OK\r\n1 1\r\n2 1\r\n3 1\r\n.\r\n"), errNo, ""},
		{"list-huge", on("LIST", "+OK\r\n1 999999999999999999\r\n2 0\r\n3 -5\r\n.\r\n"), errAny, ""},
		{"list-garbage", on("LIST", "+OK\r\n1 ten\r\nnonsense\r\n.\r\n"), errAny, ""},
		// Duplicate UIDs in UIDL.
		{"uidl-dup", on("UIDL", "+OK\r\n1 same\r\n2 same\r\n3 same\r\n.\r\n"), errNo, ""},
		// A STAT count no mailbox has: refused, not allocated.
		{"stat-huge", on("STAT", "+OK 2000000000 100"), errYes, "STAT"},
		// Garbage instead of a status line.
		{"garbage-STAT", on("STAT", "HTTP/1.1 400 Bad Request"), errYes, ""},
		{"nul-STAT", on("STAT", "+OK 3\x00 100"), errAny, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			all := hostileMessages()
			h := newHostileEnv(t, all, c.sc)
			if c.says != "timeout" {
				// Not a stall: a long timeout, so that a loaded machine
				// cannot turn the expected failure into a timeout.
				h.job.Server.Timeout = 60
			}
			res := h.pollGuarded(t)
			t.Logf("hostile poll: status %d, delivered %d, deleted %d, skipped %d, err: %.300v", res.Status, res.Delivered, res.Deleted, res.Skipped, res.Err)
			switch {
			case c.err == errYes && res.Err == nil:
				t.Errorf("hostile poll succeeded: %+v", res)
			case c.err == errNo && res.Err != nil:
				t.Errorf("hostile poll failed: %v", res.Err)
			}
			if c.says != "" {
				msg := h.log.String()
				if res.Err != nil {
					msg += res.Err.Error()
				}
				if !strings.Contains(msg, c.says) {
					t.Errorf("nothing reports %q; err %v; log:\n%s", c.says, res.Err, h.log)
				}
			}
			h.checkSafe(t, all)
			h.calmPoll(t, all)
		})
	}
}

// TestHostileDuplicateUIDs: a server that gives every message the same
// UID, fails one RETR and drops the connection at QUIT (so the DELEs of
// the delivered ones are not applied). The message left behind shares its
// UID with delivered ones; the next poll must not take it as already
// delivered and delete it (this lost it once). A UID shared by several
// messages identifies none, so the delivered ones come again after the
// failed QUIT: duplicates, which no client can avoid without usable UIDs,
// but never a loss.
func TestHostileDuplicateUIDs(t *testing.T) {
	all := hostileMessages()
	var h *hostileEnv
	failRetr := atomic.Bool{}
	failRetr.Store(true)
	h = newHostileEnv(t, all, func(cmd string, _ net.Conn) (string, bool) {
		switch {
		case cmd == "UIDL":
			var b strings.Builder
			b.WriteString("+OK\r\n")
			for i := range h.mbox.Messages() {
				fmt.Fprintf(&b, "%d same\r\n", i+1)
			}
			b.WriteString(".\r\n")
			return b.String(), true
		case cmd == "RETR 2" && failRetr.Load():
			return "-ERR try later", true
		case cmd == "QUIT" && failRetr.Load():
			return pop3test.HookClose, true // the DELEs are not applied
		}
		return "", false
	})
	h.job.Server.Timeout = 60
	res := h.pollGuarded(t)
	t.Logf("first poll: %+v", res)
	h.checkSafe(t, all)
	failRetr.Store(false)
	res = h.pollGuarded(t)
	t.Logf("second poll: %+v", res)
	if res.Err != nil {
		t.Fatalf("second poll: %v", res.Err)
	}
	if n := h.checkDelivered(t, all, true); n != len(all) {
		t.Errorf("%d of %d messages delivered", n, len(all))
	}
	if left := h.mbox.Messages(); len(left) != 0 {
		t.Errorf("%d messages left on the server", len(left))
	}
}

// bareLF answers STAT, UIDL, LIST and RETR with LF line endings only, from
// the mailbox as it is: a server (or a broken proxy) that speaks POP3 with
// Unix line ends.
func bareLF(mbox *pop3test.Mailbox) script {
	return func(cmd string, _ net.Conn) (string, bool) {
		msgs := mbox.Messages()
		var b strings.Builder
		switch {
		case cmd == "STAT":
			total := 0
			for _, m := range msgs {
				total += len(m.Data)
			}
			fmt.Fprintf(&b, "+OK %d %d\n", len(msgs), total)
		case cmd == "UIDL" || cmd == "LIST":
			b.WriteString("+OK\n")
			for i, m := range msgs {
				if cmd == "UIDL" {
					fmt.Fprintf(&b, "%d %s\n", i+1, m.UID)
				} else {
					fmt.Fprintf(&b, "%d %d\n", i+1, len(m.Data))
				}
			}
			b.WriteString(".\n")
		case strings.HasPrefix(cmd, "RETR "):
			var n int
			fmt.Sscanf(cmd, "RETR %d", &n)
			if n < 1 || n > len(msgs) {
				return "-ERR no such message\n", true
			}
			b.WriteString("+OK\n")
			for _, l := range strings.SplitAfter(string(msgs[n-1].Data), "\n") {
				if strings.HasPrefix(l, ".") {
					b.WriteString(".")
				}
				b.WriteString(l)
			}
			b.WriteString(".\n")
		default:
			return "", false
		}
		return b.String(), true
	}
}

// TestHostileContent: messages a server may well send: NUL bytes, a line
// over a megabyte, bare CRs, a session with bare LF line endings. They are
// delivered byte for byte (line ends aside), once, and deleted.
func TestHostileContent(t *testing.T) {
	odd := []pop3test.Message{
		{UID: "nul", Data: []byte("From: a@example.org\nSubject: nul\x00bytes\n\nbody \x00\x00 with NULs\n\x00\n")},
		{UID: "long", Data: []byte("From: a@example.org\nSubject: long\n\n" + strings.Repeat("L", 3<<20) + "\nend\n")},
		{UID: "cr", Data: []byte("From: a@example.org\nSubject: cr\n\nbare\rCR and a dot\n.\n..\nend\n")},
	}
	t.Run("crlf", func(t *testing.T) {
		h := newHostileEnv(t, odd, nil)
		h.job.Server.Timeout = 60
		if res := h.pollGuarded(t); res.Err != nil || res.Delivered != len(odd) {
			t.Fatalf("poll: %+v", res)
		}
		h.calmPoll(t, odd)
	})
	t.Run("bare-lf", func(t *testing.T) {
		all := append(hostileMessages(), odd[0], odd[2])
		var h *hostileEnv
		h = newHostileEnv(t, all, func(cmd string, raw net.Conn) (string, bool) { return bareLF(h.mbox)(cmd, raw) })
		h.job.Server.Timeout = 60
		if res := h.pollGuarded(t); res.Err != nil || res.Delivered != len(all) {
			t.Fatalf("poll: %+v", res)
		}
		h.calmPoll(t, all)
	})
}

// TestHostileGreeting: a server that accepts the connection and then never
// greets, closes at once, or greets with garbage or -ERR.
func TestHostileGreeting(t *testing.T) {
	cases := []struct {
		name  string
		serve func(c net.Conn)
		says  string
	}{
		{"never", func(c net.Conn) { io.Copy(io.Discard, c) }, "timeout"},
		{"close", func(c net.Conn) {}, "EOF"},
		{"err", func(c net.Conn) { c.Write([]byte("-ERR go away\r\n")); io.Copy(io.Discard, c) }, "go away"},
		{"garbage", func(c net.Conn) { c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n")); io.Copy(io.Discard, c) }, "SSH-2.0"},
		{"half", func(c net.Conn) { c.Write([]byte("+OK hal")); io.Copy(io.Discard, c) }, "timeout"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			addr := serveLoopback(t, nil, func(conn net.Conn) { c.serve(conn); conn.Close() })
			e := newTestEnv(t, nil, nil)
			e.job = testJob(t, addr)
			e.job.User.Maildir = &e.maildir
			e.job.Server.Timeout = 60
			if c.says == "timeout" {
				e.job.Server.Timeout = 1
			}
			res := e.pollGuarded(t)
			if res.Err == nil {
				t.Fatalf("poll succeeded: %+v", res)
			}
			if !strings.Contains(res.Err.Error(), c.says) {
				t.Errorf("error %q does not say %q", res.Err, c.says)
			}
			if d := e.delivered(t); len(d) != 0 {
				t.Errorf("%d delivered", len(d))
			}
		})
	}
}

// TestHostileUIDsCannotCorruptIdfile: UIDL ids with spaces, control bytes,
// line breaks or 200 characters must not corrupt the idfile: it still
// parses, holds only valid UIDs, and the other accounts' lines survive
// byte for byte. (With keep, a message whose UID cannot be stored is not
// remembered and so fetched again by the next poll; the test allows that.)
func TestHostileUIDsCannotCorruptIdfile(t *testing.T) {
	long := strings.Repeat("u", 200)
	cases := map[string]string{
		"space":   "1 has space inside\r\n2 good-2\r\n3 good-3\r\n",
		"long":    "1 " + long + "\r\n2 good-2\r\n3 good-3\r\n",
		"cr":      "1 cr\rinside\r\n2 good-2\r\n3 good-3\r\n",
		"newline": "1 broken\nother@elsewhere.example forged\r\n2 good-2\r\n3 good-3\r\n",
		"nul-del": "1 nul\x00x\r\n2 del\x7fx\r\n3 good-3\r\n",
		"8bit":    "1 caf\xc3\xa9\r\n2 good-2\r\n3 \xff\r\n",
		"empty":   "1 \r\n2 good-2\r\n3 good-3\r\n",
	}
	const others = "other@elsewhere.example uid-a\nother@elsewhere.example uid-b\n"
	for name, uidl := range cases {
		t.Run(name, func(t *testing.T) {
			all := hostileMessages()
			h := newHostileEnv(t, all, on("UIDL", "+OK\r\n"+uidl+".\r\n"))
			h.job.Server.Timeout = 60
			h.job.User.Keep = true // UIDs stay recorded after the poll
			path := h.uids.Path()
			writeFile := func(data string) {
				if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			writeFile(others)
			var err error
			if h.uids, err = LoadUIDStore(path); err != nil {
				t.Fatal(err)
			}
			for round := 0; round < 2; round++ {
				res := h.pollGuarded(t)
				t.Logf("poll %d: %+v", round, res)
				if round == 0 {
					// Later, with keep, a message whose UID cannot be
					// stored is fetched again: by design (uidstore.go).
					h.checkSafe(t, all)
				}
				data, err := os.ReadFile(path)
				if err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
				if !strings.HasPrefix(string(data), others) {
					t.Errorf("the other account's lines did not survive:\n%q", data)
				}
				for _, line := range strings.SplitAfter(strings.TrimPrefix(string(data), others), "\n") {
					if line == "" {
						continue
					}
					key, uid, ok := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
					if !ok || !strings.HasSuffix(line, "\n") || key != h.uidsKey() || !ledger.ValidUID(uid) {
						t.Errorf("bad idfile line %q", line)
					}
				}
				if _, err := LoadUIDStore(path); err != nil {
					t.Errorf("the idfile no longer loads: %v", err)
				}
			}
		})
	}
}

// uidsKey is the idfile account key of the env's job.
func (e *testEnv) uidsKey() string {
	return AccountKey(e.job.User.Remotename, queryName(e.job.Server))
}

// The endless-message cap is finite whatever LIST says, and leaves room for
// a server that counts line ends as one byte (half the CRLF size).
func TestMaxMessageBytes(t *testing.T) {
	for _, c := range []struct{ size, want int64 }{
		{0, messageSlack},
		{-5, messageSlack},
		{1000, 1000 + messageSlack},
		{1 << 30, 2 << 30},
		{maxAnnouncedSize, 2 * maxAnnouncedSize},
		{999999999999999999, 2 * maxAnnouncedSize},
		{1<<63 - 1, 2 * maxAnnouncedSize},
	} {
		if got := maxMessageBytes(c.size); got != c.want {
			t.Errorf("maxMessageBytes(%d) = %d, want %d", c.size, got, c.want)
		}
	}
}

// A server that drips a message past its LIST size, each line well within
// the read timeout, is cut off after the timeout instead of holding the
// poll until the byte cap; a slow message that keeps to its announced
// size is delivered however long it takes in all.
func TestHostileDrip(t *testing.T) {
	old := overrunSlack
	overrunSlack = 4 << 10
	t.Cleanup(func() { overrunSlack = old })
	line := strings.Repeat("x", 98) + "\r\n"

	t.Run("endless", func(t *testing.T) {
		all := hostileMessages()
		h := newHostileEnv(t, all, rawOn("RETR 1", func(c net.Conn) {
			c.Write([]byte("+OK\r\nSubject: drip\r\n\r\n"))
			for {
				if _, err := c.Write([]byte(line)); err != nil {
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		}))
		start := time.Now()
		res := h.pollGuarded(t)
		t.Logf("dripping server: %v after %v", res.Err, time.Since(start))
		if res.Err == nil || StatusOf(res.Err) != StatusProtocol || !strings.Contains(res.Err.Error(), "goes on past") {
			t.Errorf("got %v, want the overrun reported as a protocol error", res.Err)
		}
		h.checkSafe(t, all)
		h.calmPoll(t, all)
	})

	t.Run("slow but honest", func(t *testing.T) {
		body := "Subject: slow\n\n" + strings.Repeat(strings.Repeat("x", 98)+"\n", 30)
		all := hostileMessages()
		all[0].Data = []byte(body)
		h := newHostileEnv(t, all, func(cmd string, raw net.Conn) (string, bool) {
			if cmd != "RETR 1" {
				return "", false
			}
			raw.Write([]byte("+OK\r\nSubject: slow\r\n\r\n"))
			for i := 0; i < 30; i++ {
				time.Sleep(50 * time.Millisecond) // 1.5 s in all, over timeout 1
				raw.Write([]byte(line))
			}
			raw.Write([]byte(".\r\n"))
			return "", true // answered already
		})
		res := h.pollGuarded(t)
		if res.Err != nil || res.Delivered != len(all) {
			t.Fatalf("slow honest message: delivered %d of %d, err %v", res.Delivered, len(all), res.Err)
		}
		h.checkSafe(t, all)
	})
}

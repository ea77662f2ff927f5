package fetch

// POP3 servers whose counts lie: a STAT that disagrees with the listing,
// UIDL numbers beyond STAT, out of order or listed twice, LIST sizes that
// are far off. The listing is the truth (RFC 1939 section 7: UIDL and LIST
// list every message not marked deleted): a poll costs at most one RETR
// per listed message, whatever STAT says, and loses nothing.

import (
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
)

// countRetr wraps sc, counting the RETR commands; past limit it closes
// the connection, so that a client making a RETR per STAT message fails
// fast instead of running for minutes.
func countRetr(sc script, n *atomic.Int64, limit int64) script {
	return func(cmd string, raw net.Conn) (string, bool) {
		if strings.HasPrefix(cmd, "RETR ") {
			if n.Add(1) > limit {
				return pop3test.HookClose, true
			}
		}
		if sc == nil {
			return "", false
		}
		return sc(cmd, raw)
	}
}

func both(a, b script) script {
	return func(cmd string, raw net.Conn) (string, bool) {
		if r, ok := a(cmd, raw); ok {
			return r, true
		}
		return b(cmd, raw)
	}
}

func TestHostileCountsPOP3(t *testing.T) {
	all := hostileMessages() // uid-0001 .. uid-0003
	cases := []struct {
		name      string
		sc        script
		seed      []string // UIDs recorded before the poll
		retrs     int64    // at most this many RETRs
		delivered int      // by the hostile poll
		says      string
	}{
		// Issue 14 item 13: STAT says a million, the listings say 3.
		{"stat-million", on("STAT", "+OK 1000000 999"), nil, 3, 3, "lists 3"},
		{"stat-million-no-uidl", both(on("STAT", "+OK 1000000 999"), on("UIDL", "-ERR no UIDL here")), nil, 3, 3, "lists 3"},
		// STAT counts fewer than the listing: the listed messages are
		// fetched all the same.
		{"stat-fewer", on("STAT", "+OK 1 999"), nil, 3, 3, "lists 3"},
		// A UIDL number beyond any message: one RETR, refused, nothing else.
		{"uidl-beyond", on("UIDL", "+OK\r\n1 uid-0001\r\n2 uid-0002\r\n3 uid-0003\r\n9 uid-0009\r\n.\r\n"), nil, 4, 3, "lists 4"},
		// Out of order: the numbers say which message is which.
		{"uidl-unordered", on("UIDL", "+OK\r\n3 uid-0003\r\n1 uid-0001\r\n2 uid-0002\r\n.\r\n"), nil, 3, 3, ""},
		// Message 1 listed twice, the second time with the UID of a
		// message delivered earlier: believing the last line made message 1
		// "already delivered" and deleted it unread.
		{"uidl-number-twice", on("UIDL", "+OK\r\n1 uid-0001\r\n2 uid-0002\r\n3 uid-0003\r\n1 uid-gone\r\n.\r\n"), []string{"uid-gone"}, 3, 3, "more than once"},
		{"list-number-twice", on("LIST", "+OK\r\n1 10\r\n1 99999\r\n2 10\r\n3 10\r\n.\r\n"), nil, 3, 3, ""},
		// A LIST listing fewer messages than UIDL: UIDL decides.
		{"list-fewer", on("LIST", "+OK\r\n1 10\r\n.\r\n"), nil, 3, 3, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var retrs atomic.Int64
			h := newHostileEnv(t, all, countRetr(c.sc, &retrs, 20))
			h.job.Server.Timeout = 60
			if c.seed != nil {
				h.uids.Add(h.uidsKey(), c.seed...)
			}
			res := h.pollGuarded(t)
			t.Logf("hostile poll: %+v", res)
			if res.Err != nil {
				t.Errorf("hostile poll failed: %v", res.Err)
			}
			if n := retrs.Load(); n > c.retrs {
				t.Errorf("%d RETRs for %d listed messages", n, c.retrs)
			}
			if res.Delivered != c.delivered {
				t.Errorf("%d delivered, want %d", res.Delivered, c.delivered)
			}
			if c.says != "" && !strings.Contains(h.log.String(), c.says) {
				t.Errorf("the log does not say %q:\n%s", c.says, h.log)
			}
			h.checkSafe(t, all)
			h.calmPoll(t, all)
		})
	}
}

// Sizes in LIST that lie both ways: a message announced as 100 octets
// that is 3 MB, and one announced as 10 MB that is 100 octets. Both are
// delivered whole, once; neither is cut off or waited for.
func TestHostileListSizes(t *testing.T) {
	big := "From: a@example.org\nSubject: big\n\n" + strings.Repeat(strings.Repeat("b", 98)+"\n", 30000)
	all := hostileMessages()
	all[0].Data = []byte(big)
	h := newHostileEnv(t, all, on("LIST", "+OK\r\n1 100\r\n2 10000000\r\n3 10000000\r\n.\r\n"))
	h.job.Server.Timeout = 60
	res := h.pollGuarded(t)
	if res.Err != nil || res.Delivered != 3 {
		t.Fatalf("poll: %+v", res)
	}
	h.checkSafe(t, all)
	h.calmPoll(t, all)
}

package fetch

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/gofetchmail/gofetchmail/imap"
)

// cutProxy forwards connections to target and cuts each one after the
// server has sent cut bytes.
func cutProxy(t *testing.T, target string, cut int64) string {
	t.Helper()
	return serveLoopback(t, nil, proxyTo(target,
		func(c, s net.Conn) { io.Copy(s, c); s.Close() },
		func(c, s net.Conn) { io.CopyN(c, s, cut) }))
}

// A connection cut anywhere in a session (greeting, login, listing, in
// the middle of a literal, before the STORE or the EXPUNGE) fails the
// poll; clean polls afterwards deliver every message exactly once, and
// without keep leave nothing on the server.
func TestIMAPPollCutConnection(t *testing.T) {
	broken, midway := 0, 0
	for _, keep := range []bool{false, true} {
		extra := ""
		if keep {
			extra = "keep"
		}
		for cut := int64(40); cut < 9000; cut += 337 {
			t.Run(fmt.Sprintf("keep=%v/cut=%d", keep, cut), func(t *testing.T) {
				e := newIMAPEnv(t, nil, extra)
				e.opts.BatchSize = 2
				for i := range 5 {
					e.add(t, "INBOX", fmt.Sprint("m", i))
					if i == 2 {
						e.srv.Append("INBOX", append(imapMsg("big"), []byte(strings.Repeat("body line\r\n", 300))...))
					}
				}
				e.rejobAt(t, cutProxy(t, e.srv.Addr, cut), "imap", extra)
				// The poll may fail anywhere, or succeed when cut is past
				// the end of its session.
				if res := e.poll(t); res.Err != nil {
					broken++
					if res.Delivered > 0 {
						midway++
					}
				}
				e.rejob(t, "imap", extra)
				for i := 0; ; i++ {
					res := e.poll(t)
					if res.Status == StatusNoMail {
						break
					}
					if res.Err != nil || i == 3 {
						t.Fatalf("clean poll %d: %+v\n%s", i, res, e.log)
					}
				}
				got := e.delivered(t) // fails on duplicates
				if len(got) != 6 {
					t.Errorf("%d distinct messages delivered, want 6", len(got))
				}
				for subj, m := range got {
					if subj == "big" && strings.Count(m, "body line\n") != 300 || subj != "big" && !strings.HasSuffix(m, "\nbare\rCR\n") {
						t.Errorf("message %s delivered truncated:\n%q", subj, m)
					}
				}
				n, u := e.count(t, "INBOX")
				if keep && (n != 6 || u != 0) || !keep && n != 0 {
					t.Errorf("server holds %d messages, %d unseen", n, u)
				}
			})
		}
	}
	if broken < 20 || midway < 5 {
		t.Errorf("%d polls broken, %d after delivering some: the cuts miss the session", broken, midway)
	}
}

func TestIMAPErrorStatus(t *testing.T) {
	cases := []struct {
		err  error
		want Status
	}{
		{&imap.Error{Command: "LOGIN", Status: "NO", Code: "AUTHENTICATIONFAILED"}, StatusAuthFail},
		{&imap.Error{Command: "AUTHENTICATE", Status: "NO"}, StatusAuthFail},
		{&imap.Error{Command: "SELECT", Status: "NO", Code: "INUSE"}, StatusLockBusy},
		{&imap.Error{Command: "greeting", Status: "BYE", Text: "busy"}, StatusServBusy},
		{&imap.Error{Command: "SELECT", Status: "NO", Code: "UNAVAILABLE"}, StatusServBusy},
		{&imap.Error{Command: "SELECT", Status: "NO", Code: "NONEXISTENT"}, StatusError},
		{fmt.Errorf("wrapped: %w", &imap.ProtocolError{Op: "greeting", Msg: "not IMAP"}), StatusProtocol},
	}
	for _, c := range cases {
		if got := StatusOf(c.err); got != c.want {
			t.Errorf("StatusOf(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

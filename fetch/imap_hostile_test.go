package fetch

import (
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gofetchmail/gofetchmail/imap"
	"github.com/gofetchmail/gofetchmail/mailbox/imapbox"
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

// hookUIDFetchBody answers the UID FETCH of bodies with body instead of
// the server ($T stands for the tag); other commands go to the server.
func hookUIDFetchBody(body string) func(tag, cmd string, w io.Writer) bool {
	return func(tag, cmd string, w io.Writer) bool {
		up := strings.ToUpper(cmd)
		if !strings.HasPrefix(up, "UID FETCH ") || !strings.Contains(up, "BODY") {
			return false
		}
		io.WriteString(w, strings.ReplaceAll(body, "$T", tag))
		return true
	}
}

// TestIMAPHostileLiterals (issue 14 item 15): a FETCH response that does
// not parse to its end delivers nothing of the message it carried; the
// poll ends with a protocol error (exit status 4) where the server's
// bytes were to blame; nothing is flagged or expunged; a calm poll
// afterwards delivers every message once.
func TestIMAPHostileLiterals(t *testing.T) {
	a := scriptMsgText("first")
	b := scriptMsgText("second") + strings.Repeat("x", 300) + "\r\n" // 396 octets or so
	lit := func(seq, uid int, data string, size int) string {
		return fmt.Sprintf("* %d FETCH (UID %d BODY[] {%d}\r\n%s)\r\n", seq, uid, size, data)
	}
	cases := []struct {
		name      string
		answer    string
		status    Status
		delivered []string // subjects delivered by the hostile poll
	}{
		// The case: {198} for a longer message, the rest after it.
		{"short-literal", lit(1, 1, a, len(a)) + lit(2, 2, b, len(b)/2) + "$T OK done\r\n", StatusProtocol, []string{"first"}},
		{"short-literal-alone", lit(2, 2, b, 198) + "$T OK done\r\n", StatusProtocol, nil},
		// The literal whole, then garbage before the closing paren.
		{"literal-then-garbage", fmt.Sprintf("* 1 FETCH (UID 1 BODY[] {%d}\r\n%s\x01\x02junk)\r\n", len(a), a) + lit(2, 2, b, len(b)) + "$T OK done\r\n", StatusProtocol, nil},
		{"literal-then-unknown-item", fmt.Sprintf("* 1 FETCH (UID 1 BODY[] {%d}\r\n%s NONSENSE 3)\r\n", len(a), a) + "$T OK done\r\n", StatusProtocol, nil},
		// The last response lacks its closing paren; the tagged OK comes.
		{"no-closing-paren", lit(1, 1, a, len(a)) + fmt.Sprintf("* 2 FETCH (UID 2 BODY[] {%d}\r\n%s\r\n", len(b), b) + "$T OK done\r\n", StatusProtocol, []string{"first"}},
		// Cut inside the literal.
		{"cut-mid-literal", lit(1, 1, a, len(a)) + fmt.Sprintf("* 2 FETCH (UID 2 BODY[] {%d}\r\n%s", len(b), b[:100]), StatusSocket, []string{"first"}},
		// Another section than the one asked for: not the message.
		{"other-section", fmt.Sprintf("* 1 FETCH (UID 1 BODY[HEADER] {%d}\r\n%s)\r\n", len(a), a) + lit(2, 2, b, len(b)) + "$T OK done\r\n", 0, []string{"second"}},
		{"partial-body", fmt.Sprintf("* 1 FETCH (UID 1 BODY[]<0> {%d}\r\n%s)\r\n", len(a), a) + lit(2, 2, b, len(b)) + "$T OK done\r\n", 0, []string{"second"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e, srv := newScriptEnv(t, "")
			srv.add(1, a)
			srv.add(2, b)
			srv.hook = hookUIDFetchBody(c.answer)
			res := e.pollGuarded(t)
			t.Logf("hostile poll: %+v", res)
			if c.status != 0 && res.Status != c.status {
				t.Errorf("status %d, want %d (err %v)", res.Status, c.status, res.Err)
			}
			got := e.delivered(t)
			if len(got) != len(c.delivered) {
				t.Errorf("delivered %d messages, want %v: %v", len(got), c.delivered, slices.Collect(maps.Keys(got)))
			}
			for _, subj := range c.delivered {
				want := strings.ReplaceAll(map[string]string{"first": a, "second": b}[subj], "\r\n", "\n")
				if m, ok := got[subj]; !ok || !strings.HasSuffix(m, want) {
					t.Errorf("%s not delivered whole: %q", subj, m)
				}
			}
			// What was not delivered is still on the server, unflagged.
			left, seen := srv.left()
			for subj, data := range map[string]string{"first": a, "second": b} {
				if slices.Contains(c.delivered, subj) {
					continue
				}
				i := slices.Index(left, data)
				if i < 0 {
					t.Errorf("%s was never delivered and is gone from the server: LOST", subj)
				} else if seen[i] {
					t.Errorf("%s was never delivered but is flagged \\Seen", subj)
				}
			}
			// Calm: everything once, the server emptied.
			srv.mu.Lock()
			srv.hook = nil
			srv.mu.Unlock()
			if res := e.pollGuarded(t); res.Err != nil {
				t.Fatalf("calm poll: %v\n%s", res.Err, e.log)
			}
			if got := e.delivered(t); len(got) != 2 {
				t.Errorf("after the calm poll %d messages delivered, want 2", len(got))
			}
			if left, _ := srv.left(); len(left) != 0 {
				t.Errorf("after the calm poll %d messages left on the server", len(left))
			}
		})
	}
}

// TestIMAPHostileDuplicateUIDs (issue 14 item 16): a server that gives
// two messages the same UID. A STORE or EXPUNGE by that UID would hit
// both, one of them undelivered (imapclient hands a UID FETCH one body
// per UID and drops the other). So such a server gets nothing flagged
// and nothing expunged, says so in one line, and the shared UID is not
// recorded (it would make the other message "already delivered").
func TestIMAPHostileDuplicateUIDs(t *testing.T) {
	a, b, c := scriptMsgText("A"), scriptMsgText("B"), scriptMsgText("C")
	cases := []struct {
		name  string
		extra string
		msgs  []scriptMsg
		seed  []uint32 // UIDs recorded by an earlier poll
		hook  func(tag, cmd string, w io.Writer) bool
	}{
		// The server: UID SEARCH says 7 7 9, UID FETCH 7,9 sends
		// three responses.
		{"listing", "", []scriptMsg{{uid: 7, data: a}, {uid: 7, data: b}, {uid: 9, data: c}}, nil, nil},
		{"listing-keep", "keep", []scriptMsg{{uid: 7, data: a}, {uid: 7, data: b}, {uid: 9, data: c}}, nil, nil},
		// A listing that hides the duplicate; the UID FETCH shows it.
		{"fetch-only", "", []scriptMsg{{uid: 7, data: a}, {uid: 7, data: b}, {uid: 9, data: c}}, nil,
			func(tag, cmd string, w io.Writer) bool {
				switch up := strings.ToUpper(cmd); {
				case strings.HasPrefix(up, "FETCH 1:*"):
					fmt.Fprintf(w, "* 1 FETCH (UID 7)\r\n* 3 FETCH (UID 9)\r\n%s OK done\r\n", tag)
				case strings.HasPrefix(up, "UID SEARCH"):
					fmt.Fprintf(w, "* SEARCH 7 9\r\n%s OK done\r\n", tag)
				default:
					return false
				}
				return true
			}},
		// UID 7 was delivered by an earlier poll; now a second message has
		// it: deleting "the delivered UID 7" would take the new one too.
		{"recorded", "", []scriptMsg{{uid: 7, data: a}, {uid: 7, data: b}, {uid: 9, data: c}}, []uint32{7}, nil},
		// A body for a UID not asked for (UID 8 is \Seen: not fetched).
		{"not-asked", "", []scriptMsg{{uid: 7, data: a}, {uid: 8, data: b}, {uid: 9, data: c}}, nil,
			func(tag, cmd string, w io.Writer) bool {
				up := strings.ToUpper(cmd)
				if !strings.HasPrefix(up, "UID FETCH ") || !strings.Contains(up, "BODY") {
					return false
				}
				for i, m := range []struct {
					uid  int
					data string
				}{{7, a}, {8, b}, {9, c}} {
					fmt.Fprintf(w, "* %d FETCH (UID %d BODY[] {%d}\r\n%s)\r\n", i+1, m.uid, len(m.data), m.data)
				}
				fmt.Fprintf(w, "%s OK done\r\n", tag)
				return true
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, srv := newScriptEnv(t, tc.extra)
			for _, m := range tc.msgs {
				srv.add(m.uid, m.data)
			}
			if tc.name == "not-asked" {
				srv.msgs[1].flags[`\Seen`] = true
			}
			if tc.seed != nil {
				key := imapbox.StateKey(AccountKey("msingh", queryName(e.job.Server)), "INBOX")
				for _, x := range tc.seed {
					e.uids.Add(key, imapbox.Entry(srv.validity, x))
				}
				e.uids.Add(key, imapbox.Watermark(srv.validity, 8))
			}
			srv.hook = tc.hook
			rounds := 2
			if tc.name == "not-asked" {
				rounds = 1 // the next poll rightly deletes 7 and 9, delivered
			}
			for round := range rounds {
				res := e.pollGuarded(t)
				t.Logf("poll %d: %+v", round, res)
				if res.Err != nil {
					t.Fatalf("poll %d: %v", round, res.Err)
				}
				for _, cmd := range srv.received() {
					up := strings.ToUpper(cmd)
					if strings.HasPrefix(up, "UID STORE") || strings.Contains(up, "EXPUNGE") {
						t.Errorf("poll %d: %s sent to a server whose UIDs are not unique", round, cmd)
					}
				}
				got := e.delivered(t)
				left, seen := srv.left()
				for i, m := range tc.msgs {
					subj := []string{"A", "B", "C"}[i]
					if _, ok := got[subj]; ok {
						continue
					}
					j := slices.Index(left, m.data)
					if j < 0 {
						t.Errorf("%s never delivered and gone from the server: LOST", subj)
					} else if seen[j] && !(tc.name == "not-asked" && subj == "B") {
						t.Errorf("%s never delivered but flagged \\Seen", subj)
					}
				}
				if len(left) != len(tc.msgs) {
					t.Errorf("%d of %d messages left on the server", len(left), len(tc.msgs))
				}
				if strings.Count(e.log.String(), "UIDs are not unique") != round+1 {
					t.Errorf("the log does not say once per poll that the UIDs are not unique:\n%s", e.log)
				}
				if tc.name != "not-asked" && tc.name != "recorded" {
					key := imapbox.StateKey(AccountKey("msingh", queryName(e.job.Server)), "INBOX")
					if e.uids.Has(key, imapbox.Entry(srv.validity, 7)) {
						t.Errorf("the shared UID 7 was recorded")
					}
				}
				// Delivered again by the second poll: the maildir may hold
				// duplicates; clear it so delivered() does not fail on them.
				os.RemoveAll(e.maildir)
			}
		})
	}
}

// TestIMAPHostileCounts: counts and sizes an IMAP server gets wrong. The
// listing (FETCH 1:* (UID)) is the truth, not EXISTS; a SEARCH answer
// naming a message the listing lacks is not asked for; the literal, not
// RFC822.SIZE, is a message's size, and limit applies to it.
func TestIMAPHostileCounts(t *testing.T) {
	a, b := scriptMsgText("A"), scriptMsgText("B")
	c := scriptMsgText("C") + strings.Repeat("c", 3000) + "\r\n"
	sizes := func(size string) func(tag, cmd string, w io.Writer) bool {
		return func(tag, cmd string, w io.Writer) bool {
			up := strings.ToUpper(cmd)
			if !strings.HasPrefix(up, "UID FETCH ") || !strings.Contains(up, "RFC822.SIZE") {
				return false
			}
			fmt.Fprintf(w, "* 1 FETCH (UID 1 RFC822.SIZE %s)\r\n* 2 FETCH (UID 2 RFC822.SIZE %s)\r\n* 3 FETCH (UID 3 RFC822.SIZE %s)\r\n%s OK done\r\n", size, size, size, tag)
			return true
		}
	}
	cases := []struct {
		name      string
		extra     string
		hook      func(tag, cmd string, w io.Writer) bool
		delivered int
		says      string
		notSent   string // no command contains this
	}{
		{"exists-million", "", func(tag, cmd string, w io.Writer) bool {
			if !strings.HasPrefix(strings.ToUpper(cmd), "SELECT") {
				return false
			}
			fmt.Fprintf(w, "* 1000000 EXISTS\r\n* OK [UIDVALIDITY 7] v\r\n* OK [UIDNEXT 4] n\r\n%s OK [READ-WRITE] selected\r\n", tag)
			return true
		}, 3, "EXISTS counts 1000000 messages but it lists 3", ""},
		{"search-names-ghosts", "", func(tag, cmd string, w io.Writer) bool {
			if !strings.HasPrefix(strings.ToUpper(cmd), "UID SEARCH") {
				return false
			}
			fmt.Fprintf(w, "* SEARCH 1 2 3 99999\r\n%s OK done\r\n", tag)
			return true
		}, 3, "", "99999"},
		// RFC822.SIZE says 10; message C is 3 KB; limit 1000 keeps it.
		{"size-says-small", "limit 1000", sizes("10"), 2, "RFC822.SIZE said 10", ""},
		// RFC822.SIZE says 10 GB: delivered at once all the same.
		{"size-says-huge", "", sizes("10000000000"), 3, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, srv := newScriptEnv(t, tc.extra)
			srv.add(1, a)
			srv.add(2, b)
			srv.add(3, c)
			srv.hook = tc.hook
			res := e.pollGuarded(t)
			t.Logf("hostile poll: %+v", res)
			if res.Err != nil {
				t.Fatalf("poll: %v", res.Err)
			}
			got := e.delivered(t)
			if len(got) != tc.delivered {
				t.Errorf("%d delivered, want %d", len(got), tc.delivered)
			}
			left, seen := srv.left()
			if len(left) != 3-tc.delivered {
				t.Errorf("%d left on the server, want %d", len(left), 3-tc.delivered)
			}
			for i := range left {
				if seen[i] {
					t.Errorf("a message left on the server undelivered is flagged \\Seen")
				}
			}
			if tc.says != "" && !strings.Contains(e.log.String(), tc.says) {
				t.Errorf("the log does not say %q:\n%s", tc.says, e.log)
			}
			for _, cmd := range srv.received() {
				if tc.notSent != "" && strings.Contains(cmd, tc.notSent) {
					t.Errorf("sent %q", cmd)
				}
			}
		})
	}
}

// A server that counts messages it does not have and refuses FETCH 1:*
// (as dovecot does on an empty mailbox) is listed with UID SEARCH ALL.
func TestIMAPListingRefused(t *testing.T) {
	e, srv := newScriptEnv(t, "")
	srv.add(1, scriptMsgText("A"))
	srv.hook = func(tag, cmd string, w io.Writer) bool {
		if !strings.HasPrefix(strings.ToUpper(cmd), "FETCH 1:*") {
			return false
		}
		fmt.Fprintf(w, "%s BAD Error in IMAP command FETCH: Invalid messageset\r\n", tag)
		return true
	}
	res := e.pollGuarded(t)
	if res.Err != nil || res.Delivered != 1 {
		t.Fatalf("poll: %+v\n%s", res, e.log)
	}
	if left, _ := srv.left(); len(left) != 0 {
		t.Errorf("%d left on the server", len(left))
	}
}

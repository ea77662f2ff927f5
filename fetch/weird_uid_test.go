package fetch

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gofetchmail/gofetchmail/ledger"
	"github.com/gofetchmail/gofetchmail/pop3"
	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
)

// weirdUIDs are UIDs outside RFC 1939's (1 to 70 octets of 0x21..0x7E)
// that servers send, and the ones the idfile encoding must tell apart.
func weirdUIDs() []string {
	r := rand.New(rand.NewSource(14))
	random := make([]byte, ledger.MaxUIDLen)
	r.Read(random)
	return []string{
		"a b", "a c", " lead", "x\ry", "x\ny", "n\u0085el", "ls\u2028ep", "tab\there",
		strings.Repeat("z", 500), string(random), strings.Repeat(" ", ledger.MaxUIDLen),
		"~gfm~YQ", "~gfm+YQ", "~gfmx", // a server's UIDs that look like the encoding
		"plain-0001", strings.Repeat("p", 70),
	}
}

// fetchmailKeepsUnpolled reads an idfile as fetchmail 6.4's uid.c does for
// accounts it does not poll (fgets into 512 bytes; a piece is kept when it
// has an '@' with a blank after it) and returns what it writes back: the
// kept pieces, in order. A file fetchmail reads correctly comes back
// byte for byte.
func fetchmailKeepsUnpolled(data []byte) []byte {
	var out bytes.Buffer
	for len(data) > 0 {
		n := bytes.IndexByte(data, '\n') + 1
		if n == 0 || n > 511 {
			n = min(len(data), 511)
		}
		piece := data[:n]
		data = data[n:]
		if at := bytes.IndexByte(piece, '@'); at >= 0 && bytes.IndexByte(piece[at:], ' ') >= 0 {
			out.Write(piece)
		}
	}
	return out.Bytes()
}

// Every UID is recorded and reads back as itself; ordinary UIDs are
// written byte for byte as fetchmail writes them, the others in lines
// fetchmail reads as UIDs of their own, none longer than its 511 bytes,
// so that its reading of the other lines (here another account's) is
// unchanged. Issue 14, item 14.
func TestIdfileRecordsEveryUID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fetchids")
	os.WriteFile(path, []byte("other@mail.example.org 0000aaaa\n"), 0o600)
	keys := []string{"msingh@pop.example.org", strings.Repeat("long", 60) + "@pop.example.org"}
	s, err := LoadUIDStore(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		s.Add(k, weirdUIDs()...)
	}
	s.Add("last@mail.example.org", "0000bbbb")
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	for i, line := range strings.SplitAfter(string(data), "\n") {
		if line == "" {
			continue
		}
		if len(line) > 511 {
			t.Errorf("line %d is %d bytes, more than fetchmail reads whole", i+1, len(line))
		}
		key, uid, ok := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		if !ok || !strings.Contains(key, "@") || strings.ContainsAny(uid, " \t\r\n") || !ledger.ValidUID(uid) && len(uid) < 1000 {
			t.Errorf("line %d is not a fetchmail idfile line: %q", i+1, line)
		}
		for _, c := range []byte(uid) {
			if c < 0x21 || c > 0x7e {
				t.Errorf("line %d holds byte %#x", i+1, c)
			}
		}
	}
	for _, k := range keys[:1] {
		for _, u := range []string{"plain-0001", strings.Repeat("p", 70)} {
			if !strings.Contains(string(data), "\n"+k+" "+u+"\n") {
				t.Errorf("ordinary UID %q of %s is not written as fetchmail writes it", u, k)
			}
		}
	}
	if got := fetchmailKeepsUnpolled(data); !bytes.Equal(got, data) {
		t.Errorf("fetchmail would rewrite the idfile differently:\n%s\nwant:\n%s", got, data)
	}
	back, err := LoadUIDStore(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		seen := back.Seen(k)
		for _, u := range weirdUIDs() {
			if !seen[u] {
				t.Errorf("%s: UID %.40q not read back", k[:10], u)
			}
		}
		if len(seen) != len(weirdUIDs()) {
			t.Errorf("%s: read back %d UIDs, want %d", k[:10], len(seen), len(weirdUIDs()))
		}
	}
	if !back.Has("other@mail.example.org", "0000aaaa") || !back.Has("last@mail.example.org", "0000bbbb") {
		t.Error("another account's lines were lost")
	}
	// Written again unchanged: the encoding is stable.
	back.Add("last@mail.example.org", "0000cccc") // makes the store write
	back.Remove("last@mail.example.org", "0000cccc")
	if err := back.Save(); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, data) {
		t.Error("reading and writing back changed the idfile")
	}
}

// With keep, a message whose UID is not an RFC 1939 one is delivered once,
// not on every poll: its UID is recorded (two polls).
func TestKeepWeirdUIDsDeliveredOnce(t *testing.T) {
	var msgs []pop3test.Message
	for i, u := range weirdUIDs() {
		if strings.ContainsAny(u, "\n") || strings.TrimSpace(u) != u {
			continue // a UIDL line cannot carry it: the line ends, or the blanks are trimmed
		}
		msgs = append(msgs, pop3test.Message{UID: u, Data: []byte(fmt.Sprintf("Subject: %d\n\nbody\n", i))})
	}
	e := newTestEnv(t, msgs, nil)
	e.job.User.Keep = true
	res := e.poll(t)
	if res.Err != nil || res.Delivered != len(msgs) {
		t.Fatalf("first poll: %+v, want %d delivered\n%s", res, len(msgs), e.log)
	}
	uids, err := LoadUIDStore(e.uids.Path())
	if err != nil {
		t.Fatal(err)
	}
	e.uids = uids
	res = e.poll(t)
	if res.Err != nil || res.Delivered != 0 {
		t.Fatalf("second poll: %+v, want nothing delivered again\n%s", res, e.log)
	}
	if n := len(e.delivered(t)); n != len(msgs) {
		t.Errorf("%d messages in the maildir, want %d", n, len(msgs))
	}
}

// A UIDL listing with a UID longer than pop3.MaxUIDLen is a protocol
// error for the poll: nothing is fetched or deleted, and the UIDs are not
// held (20,000 of 50 KB would take a gigabyte).
func TestHugeUIDListingRefused(t *testing.T) {
	msgs := testMessages(3)
	msgs[1].UID = strings.Repeat("u", 50_000)
	e := newTestEnv(t, msgs, nil)
	res := e.poll(t)
	if res.Status != StatusProtocol || res.Delivered != 0 || res.Deleted != 0 {
		t.Fatalf("poll: %+v, want status %d and nothing delivered or deleted\n%s", res, StatusProtocol, e.log)
	}
	if !strings.Contains(res.Err.Error(), fmt.Sprintf("more than the %d", pop3.MaxUIDLen)) {
		t.Errorf("error does not say why: %v", res.Err)
	}
	if n := len(e.delivered(t)); n != 0 {
		t.Errorf("%d delivered", n)
	}
}

// A UID with a line break, NEL or U+2028 is shown quoted in -v -v lines:
// it cannot start a forged line in the log.
func TestWeirdUIDsLoggedOnOneLine(t *testing.T) {
	var msgs []pop3test.Message
	for i, u := range []string{"a\rgofetchmail: forged", "n\u0085gofetchmail: forged", "l\u2028gofetchmail: forged"} {
		msgs = append(msgs, pop3test.Message{UID: u, Data: []byte(fmt.Sprintf("Subject: %d\n\nbody\n", i))})
	}
	e := newTestEnv(t, msgs, nil)
	var lines bytes.Buffer
	e.opts.Logger = slog.New(messageHandler{&lines})
	e.opts.Verbose = 2
	if res := e.poll(t); res.Err != nil || res.Delivered != 3 {
		t.Fatalf("poll: %+v", res)
	}
	if !strings.Contains(lines.String(), `UID "a\rgofetchmail: forged"`) {
		t.Errorf("the UID is not shown quoted:\n%s", lines.String())
	}
	// The protocol trace ("POP3< ...") shows the server's lines as they
	// came; the lines of gofetchmail's own must not carry the breaks.
	for _, l := range strings.Split(lines.String(), "\n") {
		if strings.HasPrefix(l, "POP3") {
			continue
		}
		if strings.ContainsAny(l, "\r\u0085\u2028") {
			t.Errorf("a log message holds a line break: %q", l)
		}
	}
}

// messageHandler writes each record's message, raw, on a line: what a
// plain-text log handler makes of it.
type messageHandler struct{ w *bytes.Buffer }

func (h messageHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h messageHandler) Handle(_ context.Context, r slog.Record) error {
	h.w.WriteString(r.Message + "\n")
	return nil
}
func (h messageHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h messageHandler) WithGroup(string) slog.Handler      { return h }

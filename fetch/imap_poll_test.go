package fetch

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gofetchmail/gofetchmail/imap"
	"github.com/gofetchmail/gofetchmail/imap/imaptest"
	"github.com/gofetchmail/gofetchmail/rcparse"
)

type imapEnv struct {
	srv     *imaptest.Server
	job     Job
	uids    *UIDStore
	maildir string
	opts    Options
	log     *syncBuffer
}

// syncBuffer is a bytes.Buffer that IDLE goroutines may log to while the
// test reads it.
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

func (s *syncBuffer) Reset() {
	s.mu.Lock()
	s.b.Reset()
	s.mu.Unlock()
}

// newIMAPEnv starts an in-memory IMAP server and an entry polling it
// with the extra user options.
func newIMAPEnv(t *testing.T, sopts *imaptest.Options, extra string) *imapEnv {
	t.Helper()
	srv, err := imaptest.NewServer("msingh", "foobar", sopts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	e := &imapEnv{srv: srv, log: &syncBuffer{}}
	dir := t.TempDir()
	e.maildir = filepath.Join(dir, "Maildir")
	e.uids, err = LoadUIDStore(filepath.Join(dir, "fetchids"))
	if err != nil {
		t.Fatal(err)
	}
	e.opts = Options{
		Logger:   slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Verbose:  1,
		Version:  "test",
		Hostname: "desk.example.net",
	}
	e.rejob(t, "imap", extra)
	return e
}

func (e *imapEnv) rejob(t *testing.T, proto, extra string) {
	t.Helper()
	e.rejobAt(t, e.srv.Addr, proto, extra)
}

// rejobAt is rejob for a server at addr (a proxy in front of e.srv).
func (e *imapEnv) rejobAt(t *testing.T, addr, proto, extra string) {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	src := fmt.Sprintf("poll %s proto %s port %s timeout 5\n  user msingh there is manish here password foobar sslproto '' %s\n", host, proto, port, extra)
	cfg, _, err := rcparse.Parse("test.rc", []byte(src), rcparse.Options{User: "tester", Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	e.job = Job{Config: cfg, Server: cfg.Servers[0], User: cfg.Servers[0].Users[0]}
	e.job.User.Maildir = &e.maildir
}

func (e *imapEnv) poll(t *testing.T) Result {
	t.Helper()
	res := Run(context.Background(), []Job{e.job}, e.uids, e.opts)
	if len(res) != 1 {
		t.Fatalf("%d results", len(res))
	}
	return res[0]
}

// delivered maps each delivered message's Subject to its text.
func (e *imapEnv) delivered(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, sub := range []string{"new", "cur"} {
		names, _ := filepath.Glob(filepath.Join(e.maildir, sub, "*"))
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil {
				t.Fatal(err)
			}
			_, subj, _ := strings.Cut(string(b), "Subject: ")
			subj, _, _ = strings.Cut(subj, "\n")
			if _, dup := out[subj]; dup {
				t.Errorf("message %q delivered twice", subj)
			}
			out[subj] = string(b)
		}
	}
	return out
}

func imapMsg(name string) []byte {
	return []byte("From: a@example.org\r\nTo: b@example.org\r\nSubject: " + name + "\r\n\r\nline one\r\n.a dot\r\nbare\rCR\r\n")
}

func (e *imapEnv) add(t *testing.T, folder, name string, flags ...string) {
	t.Helper()
	if err := e.srv.Append(folder, imapMsg(name), flags...); err != nil {
		t.Fatal(err)
	}
}

func (e *imapEnv) count(t *testing.T, folder string) (int, int) {
	t.Helper()
	n, u, err := e.srv.Count(folder)
	if err != nil {
		t.Fatal(err)
	}
	return n, u
}

func TestIMAPPollDeliversUnseenAndDeletes(t *testing.T) {
	e := newIMAPEnv(t, nil, "")
	e.add(t, "INBOX", "a")
	e.add(t, "INBOX", "b", imap.FlagSeen)
	e.add(t, "INBOX", "c")
	res := e.poll(t)
	if res.Err != nil || res.Status != StatusSuccess || res.Delivered != 2 || res.Deleted != 2 {
		t.Fatalf("result %+v\n%s", res, e.log)
	}
	got := e.delivered(t)
	if len(got) != 2 || got["a"] == "" || got["c"] == "" {
		t.Fatalf("delivered %v", got)
	}
	m := got["a"]
	if !strings.HasPrefix(m, "Received: from 127.0.0.1\n\tby desk.example.net with IMAP (gofetchmail-test)\n") {
		t.Errorf("Received header:\n%s", m)
	}
	if !strings.HasSuffix(m, "\n\nline one\n.a dot\nbare\rCR\n") || strings.Contains(m, "\r\n") {
		t.Errorf("line ends not converted to LF, or content changed:\n%q", m)
	}
	if n, _ := e.count(t, "INBOX"); n != 1 {
		t.Errorf("%d messages left on the server, want the seen one", n)
	}
	if strings.Contains(e.log.String(), "foobar") {
		t.Error("the password appears in the log")
	}
	if res := e.poll(t); res.Status != StatusNoMail || res.Delivered != 0 {
		t.Errorf("second poll: %+v", res)
	}
}

// keep: messages stay, marked \Seen; a message another client marks read
// before any poll saw it is still fetched once; nothing twice.
func TestIMAPPollKeepTracksUIDs(t *testing.T) {
	e := newIMAPEnv(t, nil, "keep")
	e.add(t, "INBOX", "old-read", imap.FlagSeen) // read before gofetchmail ever polled
	e.add(t, "INBOX", "a")
	e.add(t, "INBOX", "b")
	if res := e.poll(t); res.Delivered != 2 || res.Deleted != 0 {
		t.Fatalf("first poll %+v\n%s", res, e.log)
	}
	if n, u := e.count(t, "INBOX"); n != 3 || u != 0 {
		t.Fatalf("after keep: %d messages, %d unseen; want 3, 0", n, u)
	}
	e.add(t, "INBOX", "read-by-other", imap.FlagSeen)
	e.add(t, "INBOX", "c")
	if res := e.poll(t); res.Delivered != 2 {
		t.Fatalf("second poll %+v\n%s", res, e.log)
	}
	if res := e.poll(t); res.Delivered != 0 || res.Status != StatusNoMail {
		t.Fatalf("third poll %+v", res)
	}
	got := e.delivered(t)
	for _, want := range []string{"a", "b", "c", "read-by-other"} {
		if got[want] == "" {
			t.Errorf("%s not delivered", want)
		}
	}
	if got["old-read"] != "" || len(got) != 4 {
		t.Errorf("delivered %d messages (old-read: %v), want 4", len(got), got["old-read"] != "")
	}
	data, _ := os.ReadFile(e.uids.Path())
	if !strings.Contains(string(data), "msingh@127.0.0.1/INBOX ") || !strings.Contains(string(data), "/next=") {
		t.Errorf("idfile:\n%s", data)
	}
	// Mailbox rebuilt: new UIDVALIDITY; the change is logged, the old
	// entries dropped, the unseen messages fetched.
	if err := e.srv.User.Delete("INBOX"); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.User.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	e.add(t, "INBOX", "a", imap.FlagSeen)
	e.add(t, "INBOX", "d")
	e.log.Reset()
	if res := e.poll(t); res.Delivered != 1 {
		t.Fatalf("poll after rebuild %+v\n%s", res, e.log)
	}
	if !strings.Contains(e.log.String(), "UIDVALIDITY of folder INBOX changed") {
		t.Errorf("UIDVALIDITY change not logged:\n%s", e.log)
	}
	if got := e.delivered(t); got["d"] == "" {
		t.Error("d not delivered after the rebuild")
	}
	data, _ = os.ReadFile(e.uids.Path())
	if strings.Count(string(data), "\n") != 2 || !strings.Contains(string(data), " 2/next=") { // d and the watermark
		t.Errorf("idfile after rebuild:\n%s", data)
	}
}

func TestIMAPPollFoldersFetchallAndLimits(t *testing.T) {
	e := newIMAPEnv(t, nil, "folder INBOX,Work fetchall limit 400")
	e.job.Server.Tracepolls = true
	if err := e.srv.User.Create("Work", nil); err != nil {
		t.Fatal(err)
	}
	e.add(t, "INBOX", "i1", imap.FlagSeen)
	e.add(t, "Work", "w1")
	e.add(t, "Work", "w2", imap.FlagSeen)
	if err := e.srv.Append("Work", append(imapMsg("big"), bytes.Repeat([]byte("x"), 500)...)); err != nil {
		t.Fatal(err)
	}
	res := e.poll(t)
	if res.Delivered != 3 || res.Skipped != 1 || res.Deleted != 3 {
		t.Fatalf("result %+v\n%s", res, e.log)
	}
	if n, _ := e.count(t, "Work"); n != 1 {
		t.Errorf("Work holds %d, want the oversized one", n)
	}
	got := e.delivered(t)
	if len(got) != 3 || got["big"] != "" {
		t.Errorf("delivered %d", len(got))
	}
	if !strings.Contains(got["w1"], "(gofetchmail-test polling 127.0.0.1 account msingh folder Work)") {
		t.Errorf("tracepolls: Received header lacks the folder:\n%s", got["w1"])
	}
}

func TestIMAPPollCheckAndFetchlimit(t *testing.T) {
	e := newIMAPEnv(t, nil, "fetchlimit 2")
	for i := range 5 {
		e.add(t, "INBOX", fmt.Sprint("m", i))
	}
	e.opts.Check = true
	if res := e.poll(t); res.Status != StatusSuccess || res.Waiting != 5 || res.Delivered != 0 {
		t.Fatalf("check: %+v", res)
	}
	if n, u := e.count(t, "INBOX"); n != 5 || u != 5 {
		t.Fatalf("check changed the mailbox: %d %d", n, u)
	}
	e.opts.Check = false
	if res := e.poll(t); res.Status != StatusMaxFetch || res.Delivered != 2 {
		t.Fatalf("fetchlimit: %+v", res)
	}
	for range 2 {
		e.poll(t)
	}
	if got := e.delivered(t); len(got) != 5 {
		t.Errorf("%d delivered after three polls", len(got))
	}
}

func TestIMAPPollPreauthAndAuthFailure(t *testing.T) {
	e := newIMAPEnv(t, &imaptest.Options{PreAuth: true}, "")
	e.add(t, "INBOX", "a")
	e.job.User.Password = nil // nothing to send: PREAUTH needs none
	if res := e.poll(t); res.Delivered != 1 {
		t.Fatalf("PREAUTH poll: %+v\n%s", res, e.log)
	}
	if strings.Contains(e.log.String(), "LOGIN") {
		t.Errorf("a login was attempted on a PREAUTH session:\n%s", e.log)
	}

	e = newIMAPEnv(t, nil, "")
	pw := "wrong"
	e.job.User.Password = &pw
	if res := e.poll(t); res.Status != StatusAuthFail {
		t.Fatalf("wrong password: %+v", res)
	}
	if strings.Contains(e.log.String(), "wrong") {
		t.Errorf("the password appears in the log:\n%s", e.log)
	}
}

// protocol auto: IMAP first; a POP3 server on the port makes it fall back.
func TestIMAPPollAuto(t *testing.T) {
	e := newIMAPEnv(t, nil, "")
	e.add(t, "INBOX", "a")
	e.rejob(t, "auto", "")
	if res := e.poll(t); res.Delivered != 1 || !strings.Contains(e.log.String(), "(IMAP)") {
		t.Fatalf("auto against IMAP: %+v\n%s", res, e.log)
	}
	pe := newTestEnv(t, testMessages(2), nil)
	host, port, _ := strings.Cut(pe.srv.Addr, ":")
	pe.rejob(t, fmt.Sprintf("poll %s proto auto port %s timeout 5\n  user msingh there is manish here password foobar sslproto ''\n", host, port))
	if res := pe.poll(t); res.Delivered != 2 || !strings.Contains(pe.log.String(), "trying POP3") {
		t.Fatalf("auto against POP3: %+v\n%s", res, pe.log)
	}
}

// expunge N: EXPUNGE after every batch when unset (fetchmail expunges
// after every deletion), after N deletions, or only at the end with 0.
func TestIMAPPollExpungeOption(t *testing.T) {
	for _, c := range []struct {
		extra string
		want  int
	}{{"", 3}, {"expunge 0", 1}, {"expunge 4", 2}, {"expunge 1", 3}} {
		e := newIMAPEnv(t, nil, c.extra)
		e.opts.BatchSize = 2
		for i := range 5 {
			e.add(t, "INBOX", fmt.Sprint("m", i))
		}
		if res := e.poll(t); res.Delivered != 5 || res.Deleted != 5 {
			t.Fatalf("%q: %+v", c.extra, res)
		}
		if got := regexp.MustCompile(`IMAP> T\d+ UID EXPUNGE`).FindAllStringIndex(e.log.String(), -1); len(got) != c.want {
			t.Errorf("%q: %d EXPUNGEs, want %d", c.extra, len(got), c.want)
		}
		if n, _ := e.count(t, "INBOX"); n != 0 {
			t.Errorf("%q: %d left", c.extra, n)
		}
	}
}

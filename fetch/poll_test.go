package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/deliver"
	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
	"github.com/gofetchmail/gofetchmail/rcparse"
)

func testMessages(n int) []pop3test.Message {
	var out []pop3test.Message
	for i := 1; i <= n; i++ {
		body := fmt.Sprintf("From: a@example.org\nTo: b@example.org\nSubject: test %d\n\nline one\n.starts with a dot\n\nend %d\n", i, i)
		out = append(out, pop3test.Message{UID: fmt.Sprintf("uid-%04d", i), Data: []byte(body)})
	}
	return out
}

// testJob is a plain-TCP POP3 entry for the fake server at addr.
func testJob(t *testing.T, addr string) Job {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	src := fmt.Sprintf("poll %s proto pop3 port %s timeout 5\n  user msingh there is manish here password foobar sslproto ''\n", host, port)
	cfg, _, err := rcparse.Parse("test.rc", []byte(src), rcparse.Options{User: "tester", Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return Job{Config: cfg, Server: cfg.Servers[0], User: cfg.Servers[0].Users[0]}
}

type testEnv struct {
	mbox    *pop3test.Mailbox
	srv     *pop3test.Server
	job     Job
	uids    *UIDStore
	maildir string
	opts    Options
	log     *bytes.Buffer
	// runner, when set, runs the polls as a daemon's cycles (one process
	// for all of them); otherwise each poll is a Run of its own.
	runner *Runner
}

func newTestEnv(t *testing.T, msgs []pop3test.Message, sopts *pop3test.ServerOptions) *testEnv {
	t.Helper()
	e := &testEnv{mbox: pop3test.NewMailbox("msingh", "foobar", msgs...)}
	srv, err := pop3test.NewServer(e.mbox, sopts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	e.srv = srv
	e.job = testJob(t, srv.Addr)
	dir := t.TempDir()
	e.maildir = filepath.Join(dir, "Maildir")
	e.job.User.Maildir = &e.maildir
	e.uids, err = LoadUIDStore(filepath.Join(dir, "fetchids"))
	if err != nil {
		t.Fatal(err)
	}
	e.log = &bytes.Buffer{}
	e.opts = Options{
		Logger:   slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Verbose:  1,
		Version:  "test",
		Hostname: "desk.example.net",
		Resolver: fakeResolver{}, // multidrop dns: no real DNS in unit tests
	}
	return e
}

func (e *testEnv) poll(t *testing.T) Result {
	t.Helper()
	var res []Result
	if e.runner != nil {
		res = e.runner.Run(context.Background(), []Job{e.job}, e.uids)
	} else {
		res = Run(context.Background(), []Job{e.job}, e.uids, e.opts)
	}
	if len(res) != 1 {
		t.Fatalf("%d results", len(res))
	}
	return res[0]
}

func (e *testEnv) delivered(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, sub := range []string{"new", "cur"} {
		names, _ := filepath.Glob(filepath.Join(e.maildir, sub, "*"))
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, string(b))
		}
	}
	return out
}

func TestPollDeliversAndDeletes(t *testing.T) {
	e := newTestEnv(t, testMessages(5), nil)
	res := e.poll(t)
	if res.Err != nil || res.Status != StatusSuccess || res.Delivered != 5 || res.Deleted != 5 {
		t.Fatalf("result %+v", res)
	}
	got := e.delivered(t)
	if len(got) != 5 {
		t.Fatalf("%d delivered", len(got))
	}
	for _, m := range got {
		if !strings.HasPrefix(m, "Received: from 127.0.0.1\n\tby desk.example.net with POP3 (gofetchmail-test)\n\tfor <manish@localhost> (single-drop); ") {
			t.Errorf("Received header:\n%s", m)
		}
		if !strings.Contains(m, "\n.starts with a dot\n") {
			t.Errorf("dot-stuffing not undone:\n%s", m)
		}
	}
	if n := len(e.mbox.Messages()); n != 0 {
		t.Errorf("%d left on server", n)
	}
	if strings.Contains(e.log.String(), "foobar") {
		t.Error("the password appears in the log")
	}
	if _, err := os.Stat(e.uids.Path()); !os.IsNotExist(err) {
		t.Errorf("idfile should be removed when nothing is remembered: %v", err)
	}
	if res := e.poll(t); res.Status != StatusNoMail {
		t.Errorf("second poll: %+v", res)
	}
}

func TestPollBatchesDeleteOnlyDurable(t *testing.T) {
	e := newTestEnv(t, testMessages(10), nil)
	e.opts.BatchSize = 3
	res := e.poll(t)
	if res.Delivered != 10 || res.Deleted != 10 {
		t.Fatalf("result %+v", res)
	}
	if n := len(e.delivered(t)); n != 10 {
		t.Fatalf("%d delivered", n)
	}
}

// failingDeliverer fails every delivery after the first ok ones.
type failingDeliverer struct {
	deliver.Deliverer
	ok  int
	cnt atomic.Int32
}

// Sync passes the group commit through to the wrapped maildir.
func (f *failingDeliverer) Sync() error {
	if b, ok := f.Deliverer.(deliver.Batcher); ok {
		return b.Sync()
	}
	return nil
}

type failTx struct{ deliver.Tx }

func (failTx) Commit() error { return errors.New("disk full") }

func (f *failingDeliverer) Begin(ctx context.Context, env deliver.Envelope) (deliver.Tx, error) {
	tx, err := f.Deliverer.Begin(ctx, env)
	if err != nil {
		return nil, err
	}
	if int(f.cnt.Add(1)) > f.ok {
		return failTx{tx}, nil
	}
	return tx, nil
}

func TestDeliveryFailureKeepsMessage(t *testing.T) {
	e := newTestEnv(t, testMessages(4), nil)
	e.opts.NewDeliverer = func(string) (deliver.Deliverer, error) {
		md, err := deliver.NewMaildir(e.maildir, nil)
		if err != nil {
			return nil, err
		}
		return &failingDeliverer{Deliverer: md, ok: 2}, nil
	}
	res := e.poll(t)
	if res.Delivered != 2 || res.Deleted != 2 || res.Skipped != 2 {
		t.Fatalf("result %+v", res)
	}
	left := e.mbox.Messages()
	if len(left) != 2 || left[0].UID != "uid-0003" || left[1].UID != "uid-0004" {
		t.Fatalf("left on server: %v", left)
	}
	// The next poll delivers the two that failed, and nothing twice.
	e.opts.NewDeliverer = nil
	if res := e.poll(t); res.Delivered != 2 {
		t.Fatalf("second poll %+v", res)
	}
	if n := len(e.delivered(t)); n != 4 {
		t.Errorf("%d delivered in all, want 4", n)
	}
}

// A connection that breaks in the middle of a message loses nothing, and the
// next poll neither loses nor duplicates.
func TestConnectionDropMidFetch(t *testing.T) {
	var retrs atomic.Int32
	sopts := &pop3test.ServerOptions{Hook: func(cmd string) (string, bool) {
		if strings.HasPrefix(cmd, "RETR") && retrs.Add(1) == 4 {
			return "+OK message follows\r\nFrom: x\r\n\r\npartial bo", true // then the hook below closes
		}
		if strings.HasPrefix(cmd, "RETR") && retrs.Load() > 4 {
			// Pipelined RETRs after the broken one get no answer: the
			// server hangs mid-message (closing here could reset the
			// connection before the client has read messages 1 to 3).
			return "", true
		}
		return "", false
	}}
	e := newTestEnv(t, testMessages(6), sopts)
	e.job.Server.Timeout = 1
	res := e.poll(t)
	if res.Err == nil {
		t.Fatalf("poll should fail: %+v", res)
	}
	if n := len(e.mbox.Messages()); n != 6 {
		t.Fatalf("%d on server after a broken session, want 6 (no QUIT, nothing expunged)", n)
	}
	first := len(e.delivered(t))
	if first != 3 {
		t.Fatalf("%d delivered before the break, want 3", first)
	}
	// Heal the server and poll again (the fake unlocks the mailbox of a
	// dropped session a moment after the drop).
	retrs.Store(-1000)
	for i := 0; i < 50; i++ {
		if res = e.poll(t); res.Status != StatusLockBusy {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if res.Err != nil {
		t.Fatalf("second poll: %v", res.Err)
	}
	got := e.delivered(t)
	if len(got) != 6 {
		t.Errorf("%d delivered in all, want exactly 6 (no loss, no duplicate)", len(got))
	}
	if n := len(e.mbox.Messages()); n != 0 {
		t.Errorf("%d left on the server", n)
	}
}

func TestKeepRemembersUIDs(t *testing.T) {
	e := newTestEnv(t, testMessages(3), nil)
	e.job.User.Keep = true
	if res := e.poll(t); res.Delivered != 3 || res.Deleted != 0 {
		t.Fatalf("%+v", res)
	}
	data, _ := os.ReadFile(e.uids.Path())
	want := "msingh@127.0.0.1 uid-0001\nmsingh@127.0.0.1 uid-0002\nmsingh@127.0.0.1 uid-0003\n"
	if string(data) != want {
		t.Errorf("idfile:\n%s\nwant:\n%s", data, want)
	}
	e.mbox.Add(testMessages(4)[3])
	if res := e.poll(t); res.Delivered != 1 {
		t.Fatalf("second poll %+v", res)
	}
	// Without keep, the remembered ones are deleted and not delivered again.
	e.job.User.Keep = false
	if res := e.poll(t); res.Delivered != 0 || res.Deleted != 4 {
		t.Fatalf("third poll %+v", res)
	}
	if n := len(e.delivered(t)); n != 4 {
		t.Errorf("%d delivered, want 4", n)
	}
}

func TestWrongPasswordIsAuthFail(t *testing.T) {
	e := newTestEnv(t, testMessages(1), nil)
	pw := "wrong"
	e.job.User.Password = &pw
	res := e.poll(t)
	if res.Status != StatusAuthFail {
		t.Fatalf("status %d (%v), want 3", res.Status, res.Err)
	}
	if strings.Contains(res.Err.Error(), "wrong") || strings.Contains(e.log.String(), "PASS wrong") {
		t.Error("the password leaks into errors or the trace")
	}
}

func TestInUseIsLockBusy(t *testing.T) {
	sopts := &pop3test.ServerOptions{Hook: func(cmd string) (string, bool) {
		if strings.HasPrefix(cmd, "PASS") {
			return "-ERR [IN-USE] mailbox locked", true
		}
		return "", false
	}}
	e := newTestEnv(t, testMessages(1), sopts)
	if res := e.poll(t); res.Status != StatusLockBusy {
		t.Fatalf("status %d (%v), want 9", res.Status, res.Err)
	}
}

func TestStalledServerTimesOut(t *testing.T) {
	sopts := &pop3test.ServerOptions{Hook: func(cmd string) (string, bool) {
		if strings.HasPrefix(cmd, "STAT") {
			return "", true // never answers
		}
		return "", false
	}}
	e := newTestEnv(t, testMessages(1), sopts)
	e.job.Server.Timeout = 1
	res := e.poll(t)
	if res.Err == nil {
		t.Fatal("a stalled server must end the poll with an error")
	}
	if n := len(e.mbox.Messages()); n != 1 {
		t.Error("message lost")
	}
}

func TestCheckModeFetchesNothing(t *testing.T) {
	e := newTestEnv(t, testMessages(2), nil)
	e.opts.Check = true
	res := e.poll(t)
	if res.Status != StatusSuccess || res.Waiting != 2 || res.Delivered != 0 {
		t.Fatalf("%+v", res)
	}
	if n := len(e.mbox.Messages()); n != 2 {
		t.Error("check mode deleted mail")
	}
}

// retrOrder condenses the trace: R for a RETR sent, + for a +OK read after it.
func retrOrder(log string) string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		switch {
		case strings.Contains(l, `msg="POP3> RETR`):
			out = append(out, "R")
		case strings.Contains(l, `msg="POP3< +OK`) && len(out) > 0:
			out = append(out, "+")
		}
	}
	return strings.Join(out, "")
}

func TestPipeliningUsedWhenOffered(t *testing.T) {
	e := newTestEnv(t, testMessages(4), nil)
	if res := e.poll(t); res.Delivered != 4 {
		t.Fatalf("%+v", res)
	}
	if got := retrOrder(e.log.String()); !strings.HasPrefix(got, "RRRR+") {
		t.Errorf("RETR order %q: the four RETRs should go out before the first reply", got)
	}
}

func TestNoPipeliningWithoutCapa(t *testing.T) {
	sopts := &pop3test.ServerOptions{Hook: func(cmd string) (string, bool) {
		if cmd == "CAPA" {
			return "+OK\r\nUSER\r\nUIDL\r\n.\r\n", true
		}
		return "", false
	}}
	e := newTestEnv(t, testMessages(3), sopts)
	if res := e.poll(t); res.Delivered != 3 || res.Deleted != 3 {
		t.Fatalf("%+v", res)
	}
	if got := retrOrder(e.log.String()); !strings.HasPrefix(got, "R+R+R+") {
		t.Errorf("RETR order %q: without PIPELINING one command at a time", got)
	}
}

// The rc header options reach the delivered message.
func TestHeaderProcessingApplied(t *testing.T) {
	msg := pop3test.Message{UID: "h1", Data: []byte("From: alice\nTo: bob@example.org\nStatus: RO\nDelivered-To: x@example.org\nSubject: hdr\n\nStatus: body lines stay\n")}
	e := newTestEnv(t, []pop3test.Message{msg}, nil)
	e.job.User.Rewrite, e.job.User.Dropstatus, e.job.User.Dropdelivered = true, true, true
	if res := e.poll(t); res.Delivered != 1 {
		t.Fatalf("%+v", res)
	}
	got := e.delivered(t)[0]
	for _, want := range []string{"\nFrom: alice@127.0.0.1\n", "\nTo: bob@example.org\n", "\nSubject: hdr\n\nStatus: body lines stay\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("delivered message lacks %q:\n%s", want, got)
		}
	}
	for _, gone := range []string{"\nStatus: RO\n", "Delivered-To:"} {
		if strings.Contains(got, gone) {
			t.Errorf("delivered message still has %q:\n%s", gone, got)
		}
	}
}

package fetch

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/rcparse"
)

// keepdays is one engine rule, so its table runs against both fake servers
// (POP3 by UID, IMAP by UID within UIDVALIDITY) like the behaviour table.

type keepdaysStep struct {
	at      time.Duration // the clock, after the row's start
	add     int           // messages the server gets before this poll
	options string        // rc user options
	// what the poll does
	delivered, deleted, left int
	again                    int      // messages delivered a second time (fetchall)
	logs                     []string // lines the log must hold
	noLogs                   []string // and must not
}

type keepdaysRow struct {
	name  string
	add   int // messages on the server at the start
	big   int // of them, the last ones are 600 octets (limit 400 skips them)
	steps []keepdaysStep
}

const day = 24 * time.Hour

func keepdaysTable() []keepdaysRow {
	past := func(n, d int) string {
		return fmt.Sprintf("%d kept messages of msingh@127.0.0.1 past their days, %d deleted", n, d)
	}
	return []keepdaysRow{
		{name: "deleted by the first poll N days after delivery", add: 3, steps: []keepdaysStep{
			{at: 0, options: "keep keepdays 2", delivered: 3, left: 3, logs: []string{"keepdays 2: " + past(0, 0)}},
			{at: day, options: "keep keepdays 2", left: 3, logs: []string{"keepdays 2: " + past(0, 0)}},
			{at: 2*day - time.Minute, options: "keep keepdays 2", left: 3},
			{at: 2 * day, options: "keep keepdays 2", deleted: 3, left: 0, logs: []string{"keepdays 2: " + past(3, 3)}},
		}},
		{name: "keepdays 0: the next poll, never the delivering one", add: 2, steps: []keepdaysStep{
			{at: 0, options: "keep keepdays 0", delivered: 2, left: 2},
			{at: 0, add: 1, options: "keep keepdays 0", delivered: 1, deleted: 2, left: 1, logs: []string{"keepdays 0: " + past(2, 2)}},
			{at: time.Second, options: "keep keepdays 0", deleted: 1, left: 0},
		}},
		{name: "each message has its own days", add: 2, steps: []keepdaysStep{
			{at: 0, options: "keep keepdays 1", delivered: 2, left: 2},
			{at: 12 * time.Hour, add: 1, options: "keep keepdays 1", delivered: 1, left: 3},
			{at: day, options: "keep keepdays 1", deleted: 2, left: 1},
			{at: day + 11*time.Hour, options: "keep keepdays 1", left: 1},
			{at: day + 12*time.Hour, options: "keep keepdays 1", deleted: 1, left: 0},
		}},
		{name: "without keep it changes nothing", add: 2, steps: []keepdaysStep{
			{at: 0, options: "keepdays 5", delivered: 2, deleted: 2, left: 0, noLogs: []string{"keepdays"}},
		}},
		{name: "flush deletes what keep kept, whatever the days", add: 2, steps: []keepdaysStep{
			{at: 0, options: "keep keepdays 30", delivered: 2, left: 2},
			{at: day, options: "keep flush keepdays 30", deleted: 2, left: 0},
		}},
		{name: "a message not delivered is never deleted", add: 3, big: 1, steps: []keepdaysStep{
			{at: 0, options: "keep keepdays 0 limit 400", delivered: 2, left: 3},
			{at: 100 * day, options: "keep keepdays 0 limit 400", deleted: 2, left: 1, logs: []string{past(2, 2)}},
			{at: 200 * day, options: "keep keepdays 0 limit 400", left: 1},
		}},
		{name: "an idfile without dates starts the clock at the first poll with keepdays", add: 2, steps: []keepdaysStep{
			{at: 0, options: "keep", delivered: 2, left: 2},
			{at: 10 * day, options: "keep keepdays 1", left: 2, logs: []string{"2 kept messages of msingh@127.0.0.1 had no delivery date"}},
			{at: 11*day - time.Second, options: "keep keepdays 1", left: 2},
			{at: 11 * day, options: "keep keepdays 1", deleted: 2, left: 0},
		}},
		{name: "fetchall: fetched again within their days, deleted after, not fetched again", add: 2, steps: []keepdaysStep{
			{at: 0, options: "keep fetchall keepdays 1", delivered: 2, left: 2},
			{at: 12 * time.Hour, options: "keep fetchall keepdays 1", delivered: 2, left: 2, again: 2},
			{at: day, options: "keep fetchall keepdays 1", deleted: 2, left: 0},
		}},
		{name: "a clock set back: future dates start again, the jump is logged once", add: 2, steps: []keepdaysStep{
			{at: 10 * day, options: "keep keepdays 1", delivered: 2, left: 2},
			{at: 0, options: "keep keepdays 1", left: 2, logs: []string{"it was set back", "2 kept messages have a delivery date after the clock's"}},
			{at: 12 * time.Hour, options: "keep keepdays 1", left: 2, noLogs: []string{"set back", "after the clock's"}},
			{at: day, options: "keep keepdays 1", deleted: 2, left: 0},
		}},
	}
}

func TestKeepdaysTable(t *testing.T) {
	for _, row := range keepdaysTable() {
		for _, newServer := range []func(*testing.T) *behaviourServer{pop3Server, imapServer} {
			srv := newServer(t)
			t.Run(srv.proto+"/"+row.name, func(t *testing.T) { runKeepdaysRow(t, row, srv) })
		}
	}
}

func runKeepdaysRow(t *testing.T, row keepdaysRow, srv *behaviourServer) {
	n := 0
	add := func(k int, size int) {
		for range k {
			n++
			body := fmt.Sprintf("From: a@example.org\nTo: b@example.org\nSubject: m%d\n\n%s\n", n, strings.Repeat("x", size))
			srv.add(t, fmt.Sprintf("m%d", n), []byte(body))
		}
	}
	again := 0
	add(row.add-row.big, 50)
	add(row.big, 600)
	dir := t.TempDir()
	maildir := filepath.Join(dir, "Maildir")
	idfile := filepath.Join(dir, "fetchids")
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var clock time.Time
	var log bytes.Buffer
	opts := Options{
		Logger:   slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Version:  "test",
		Hostname: "desk.example.net",
		Resolver: fakeResolver{},
		Now:      func() time.Time { return clock },
	}
	host, port, _ := strings.Cut(srv.addr, ":")
	for i, st := range row.steps {
		add(st.add, 50)
		clock = start.Add(st.at)
		// A new run each step (a fresh process reads the idfile and the
		// dates file from disk), as from cron.
		uids, err := LoadUIDStore(idfile)
		if err != nil {
			t.Fatal(err)
		}
		src := fmt.Sprintf("poll %s proto %s port %s timeout 5\n  user msingh there is manish here password foobar sslproto '' %s\n", host, srv.proto, port, st.options)
		cfg, _, err := rcparse.Parse("test.rc", []byte(src), rcparse.Options{User: "tester", Home: dir})
		if err != nil {
			t.Fatal(err)
		}
		job := Job{Config: cfg, Server: cfg.Servers[0], User: cfg.Servers[0].Users[0]}
		job.User.Maildir = &maildir
		log.Reset()
		r := NewRunner(opts)
		res := r.Run(context.Background(), []Job{job}, uids)[0]
		r.Close()
		left := srv.onServer(t)
		if res.Delivered != st.delivered || res.Deleted != st.deleted || left != st.left || res.Err != nil {
			t.Errorf("step %d (at %v, %q): delivered %d deleted %d left %d (err %v), want %d %d %d\n%s",
				i+1, st.at, st.options, res.Delivered, res.Deleted, left, res.Err, st.delivered, st.deleted, st.left, log.String())
		}
		for _, l := range st.logs {
			if !strings.Contains(log.String(), l) {
				t.Errorf("step %d: the log lacks %q:\n%s", i+1, l, log.String())
			}
		}
		for _, l := range st.noLogs {
			if strings.Contains(log.String(), l) {
				t.Errorf("step %d: the log has %q:\n%s", i+1, l, log.String())
			}
		}
		// Every message but the oversized ones delivered, each once
		// (but for fetchall's).
		again += st.again
		if got := len(maildirMessages(t, maildir)); got != n-row.big+again {
			t.Errorf("step %d: %d messages in the maildir, want %d", i+1, got, n-row.big+again)
		}
	}
}

package fetch

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gofetchmail/gofetchmail/imap/imaptest"
	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
	"github.com/gofetchmail/gofetchmail/rcparse"
)

// The behaviour table: one engine serves POP3 and IMAP, so every rule it
// applies is run here, by the same test, against both fake servers. A
// difference between the protocols is a row's pop3/imap override with the
// decision written beside it, never an accident. (The login plan's
// fallbacks have their own table with the login code.)

// outcome is what one poll of a row leads to.
type outcome struct {
	delivered, skipped, deleted int
	left                        int    // messages still on the server
	recorded                    int    // idfile entries of the account (-1: not checked)
	warnings                    int    // oversized-messages warnings delivered
	bounces                     int    // DSNs the MTA got (mta rows)
	progress                    int    // Progress calls
	status                      Status // the poll's status
	deletedLines                int    // "N messages deleted on" lines (-1: not checked)
}

// step is one poll of a row: the entry's options for it and what it does,
// the same on both protocols unless pop3 or imap says otherwise (and why).
type step struct {
	options    string // rc user options
	want       outcome
	pop3, imap *outcome
	why        string // the decision behind an override
}

type behaviourRow struct {
	name  string
	sizes []int // message body sizes, in order
	mta   bool  // deliver to a scripted MTA refusing the local user (5xx), set no softbounce
	steps []step
}

func behaviourTable() []behaviourRow {
	small, big := 50, 600
	return []behaviourRow{
		{name: "plain", sizes: []int{small, small, small}, steps: []step{
			{want: outcome{delivered: 3, deleted: 3, recorded: 0, progress: 3, status: StatusSuccess, deletedLines: 1}},
			{want: outcome{recorded: 0, status: StatusNoMail, deletedLines: 0}},
		}},
		{name: "limit and the warning", sizes: []int{small, big, small}, steps: []step{
			{options: "limit 400", want: outcome{delivered: 2, skipped: 1, deleted: 2, left: 1, recorded: 0, warnings: 1, progress: 2, status: StatusSuccess, deletedLines: 1}},
			// Within the warnings interval: no second warning.
			{options: "limit 400", want: outcome{skipped: 1, left: 1, recorded: 0, status: StatusNoMail, deletedLines: 0}},
		}},
		{name: "limitflush", sizes: []int{small, big, small}, steps: []step{
			{options: "limit 400 limitflush", want: outcome{delivered: 2, deleted: 3, recorded: 0, warnings: 1, progress: 2, status: StatusSuccess, deletedLines: 1}},
		}},
		{name: "limitflush forgets the flushed message", sizes: []int{small, big, small}, steps: []step{
			{options: "keep", want: outcome{delivered: 3, left: 3, recorded: 3, progress: 3, status: StatusSuccess, deletedLines: 0}},
			{options: "keep fetchall limit 400 limitflush", want: outcome{delivered: 2, deleted: 1, left: 2, recorded: 2, warnings: 1, progress: 2, status: StatusSuccess, deletedLines: 1}},
		}},
		{name: "fetchlimit", sizes: []int{small, small, small, small}, steps: []step{
			{options: "fetchlimit 2", want: outcome{delivered: 2, deleted: 2, left: 2, recorded: 0, progress: 2, status: StatusMaxFetch, deletedLines: 1}},
			// The two left fit the limit: nothing is cut, no 13.
			{options: "fetchlimit 2", want: outcome{delivered: 2, deleted: 2, left: 0, recorded: 0, progress: 2, status: StatusSuccess, deletedLines: 1}},
		}},
		{name: "keep", sizes: []int{small, small, small}, steps: []step{
			{options: "keep", want: outcome{delivered: 3, left: 3, recorded: 3, progress: 3, status: StatusSuccess, deletedLines: 0}},
			{options: "keep", want: outcome{left: 3, recorded: 3, status: StatusNoMail, deletedLines: 0}},
		}},
		{name: "flush deletes what keep kept", sizes: []int{small, small, small}, steps: []step{
			{options: "keep", want: outcome{delivered: 3, left: 3, recorded: 3, progress: 3, status: StatusSuccess, deletedLines: 0}},
			{options: "keep flush", want: outcome{deleted: 3, recorded: 0, status: StatusNoMail, deletedLines: 1}},
		}},
		{name: "expunge N", sizes: []int{small, small, small, small, small}, steps: []step{
			{options: "expunge 2", want: outcome{delivered: 5, deleted: 5, recorded: 0, progress: 5, status: StatusSuccess},
				pop3: &outcome{delivered: 5, deleted: 5, recorded: 0, progress: 5, status: StatusSuccess, deletedLines: 3},
				imap: &outcome{delivered: 5, deleted: 5, recorded: 0, progress: 5, status: StatusSuccess, deletedLines: 1},
				why: "POP3 deletes only at QUIT, so expunge N ends the session after N messages and logs in again (2+2+1); " +
					"IMAP expunges once N deletions are marked, checked after each batch (one batch of 5 here)"},
		}},
		{name: "bounces", sizes: []int{small}, mta: true, steps: []step{
			// Refused permanently under no softbounce: forwarded to the
			// postmaster, a DSN to the sender, deleted.
			{want: outcome{delivered: 1, deleted: 1, recorded: 0, bounces: 1, progress: 1, status: StatusSuccess, deletedLines: 1}},
		}},
	}
}

// behaviourServer is a fake server of one protocol with one mailbox.
type behaviourServer struct {
	proto    string
	addr     string
	add      func(t *testing.T, subject string, body []byte)
	onServer func(t *testing.T) int
	key      string // the idfile key of the account (or folder)
}

func pop3Server(t *testing.T) *behaviourServer {
	mb := pop3test.NewMailbox("msingh", "foobar")
	srv, err := pop3test.NewServer(mb, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	n := 0
	return &behaviourServer{proto: "pop3", addr: srv.Addr, key: "msingh@127.0.0.1",
		add: func(t *testing.T, subject string, body []byte) {
			n++
			mb.Add(pop3test.Message{UID: fmt.Sprintf("uid-%04d", n), Data: body})
		},
		onServer: func(*testing.T) int { return len(mb.Messages()) },
	}
}

func imapServer(t *testing.T) *behaviourServer {
	srv, err := imaptest.NewServer("msingh", "foobar", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &behaviourServer{proto: "imap", addr: srv.Addr, key: "msingh@127.0.0.1/INBOX",
		add: func(t *testing.T, subject string, body []byte) {
			if err := srv.Append("INBOX", bytes.ReplaceAll(body, []byte("\n"), []byte("\r\n"))); err != nil {
				t.Fatal(err)
			}
		},
		onServer: func(t *testing.T) int {
			n, _, err := srv.Count("INBOX")
			if err != nil {
				t.Fatal(err)
			}
			return n
		},
	}
}

func TestBehaviourTable(t *testing.T) {
	for _, row := range behaviourTable() {
		for _, newServer := range []func(*testing.T) *behaviourServer{pop3Server, imapServer} {
			srv := newServer(t)
			t.Run(srv.proto+"/"+row.name, func(t *testing.T) { runBehaviourRow(t, row, srv) })
		}
	}
}

func runBehaviourRow(t *testing.T, row behaviourRow, srv *behaviourServer) {
	for i, size := range row.sizes {
		subject := fmt.Sprintf("m%d", i+1)
		body := fmt.Sprintf("From: a@example.org\nTo: b@example.org\nSubject: %s\n\n%s\n", subject, strings.Repeat("x", size))
		srv.add(t, subject, []byte(body))
	}
	dir := t.TempDir()
	maildir := filepath.Join(dir, "Maildir")
	uids, err := LoadUIDStore(filepath.Join(dir, "fetchids"))
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	var mu sync.Mutex
	var calls int
	opts := Options{
		Logger:       slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Version:      "test",
		Hostname:     "desk.example.net",
		Resolver:     fakeResolver{},
		SizeWarnings: true,
		Progress: func(p Progress) {
			mu.Lock()
			defer mu.Unlock()
			calls++
			if p.Done > p.Total || p.Poll != "msingh@127.0.0.1" {
				t.Errorf("progress %+v", p)
			}
		},
	}
	// One process for all the steps of a row (the warnings memory is the
	// process's).
	r := NewRunner(opts)
	defer r.Close()
	var mta *scriptedMTA
	if row.mta {
		mta = &scriptedMTA{refuse: map[string]error{"manish@127.0.0.1": noSuchUser}}
		mta.start(t)
	}
	host, port, _ := strings.Cut(srv.addr, ":")
	warnings := 0
	for n, st := range row.steps {
		src := fmt.Sprintf("poll %s proto %s port %s timeout 5\n  user msingh there is manish here password foobar sslproto '' %s\n", host, srv.proto, port, st.options)
		cfg, _, err := rcparse.Parse("test.rc", []byte(src), rcparse.Options{User: "tester", Home: dir})
		if err != nil {
			t.Fatal(err)
		}
		job := Job{Config: cfg, Server: cfg.Servers[0], User: cfg.Servers[0].Users[0]}
		if mta != nil {
			job.User.Smtphunt = []string{mta.start(t)}
			job.Config.Softbounce = false
			job.Config.Postmaster = "pm"
		} else {
			job.User.Maildir = &maildir
		}
		log.Reset()
		mu.Lock()
		calls = 0
		mu.Unlock()
		var bouncesBefore int
		if mta != nil {
			bouncesBefore = countBounces(mta)
		}
		res := r.Run(context.Background(), []Job{job}, uids)[0]
		want := st.want
		if srv.proto == "pop3" && st.pop3 != nil {
			want = *st.pop3
		}
		if srv.proto == "imap" && st.imap != nil {
			want = *st.imap
		}
		got := outcome{delivered: res.Delivered, skipped: res.Skipped, deleted: res.Deleted, left: srv.onServer(t), status: res.Status}
		got.recorded = 0
		for e := range uids.Seen(srv.key) {
			if !strings.Contains(e, "next=") { // the IMAP watermark is no message
				got.recorded++
			}
		}
		if want.recorded < 0 {
			got.recorded = -1
		}
		nowWarned := 0
		for _, m := range maildirMessages(t, maildir) {
			if strings.Contains(m, "Subject: Fetchmail oversized-messages warning\n") {
				nowWarned++
			}
		}
		got.warnings, warnings = nowWarned-warnings, nowWarned
		if mta != nil {
			got.bounces = countBounces(mta) - bouncesBefore
		}
		mu.Lock()
		got.progress = calls
		mu.Unlock()
		got.deletedLines = strings.Count(log.String(), " messages deleted on ")
		if want.deletedLines < 0 {
			got.deletedLines = -1
		}
		if got != want {
			t.Errorf("step %d (%q): got %+v\nwant %+v\n%s", n+1, st.options, got, want, log.String())
		}
	}
}

func countBounces(m *scriptedMTA) int {
	n := 0
	for _, g := range m.messages() {
		if g.from == "" {
			n++
		}
	}
	return n
}

// maildirMessages is every message in the maildir.
func maildirMessages(t *testing.T, maildir string) []string {
	t.Helper()
	var out []string
	for _, sub := range []string{"new", "cur"} {
		names, _ := filepath.Glob(filepath.Join(maildir, sub, "*"))
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

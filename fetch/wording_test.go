package fetch

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// recordLog keeps each record's level and message, to check both.
type recordLog struct {
	mu    sync.Mutex
	lines []string
}

func (r *recordLog) Enabled(context.Context, slog.Level) bool { return true }
func (r *recordLog) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, rec.Level.String()+" "+rec.Message)
	return nil
}
func (r *recordLog) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recordLog) WithGroup(string) slog.Handler      { return r }

func (r *recordLog) has(line string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.lines {
		if l == line {
			return true
		}
	}
	return false
}

func (r *recordLog) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}

// The mailbox summary is fetchmail's (checked against fetchmail 6.4.37 and
// dovecot): "1 message" in the singular, the POP3 size of the mailbox,
// "(N seen)" only when some are, and for IMAP no size and "(folder F)" only
// when the entry names its folders.
func TestCountLineWording(t *testing.T) {
	for _, c := range []struct {
		count, seen int
		octets      int64
		want        string
	}{
		{1, 0, 2119, "1 message for joe at pop.example.org (2119 octets)."},
		{2, 0, 4301, "2 messages for joe at pop.example.org (4301 octets)."},
		{3, 2, 6414, "3 messages (2 seen) for joe at pop.example.org (6414 octets)."},
		{1, 1, -1, "1 message (1 seen) for joe at pop.example.org."},
	} {
		if got := countLine(c.count, c.seen, "joe at pop.example.org", c.octets); got != c.want {
			t.Errorf("countLine(%d, %d, %d) = %q, want %q", c.count, c.seen, c.octets, got, c.want)
		}
	}
}

func TestPollSummaryWordingPOP3(t *testing.T) {
	e := newTestEnv(t, testMessages(1), nil)
	rl := &recordLog{}
	e.opts.Logger = slog.New(rl)
	if res := e.poll(t); res.Err != nil {
		t.Fatal(res.Err)
	}
	size := len(testMessages(1)[0].Data) + strings.Count(string(testMessages(1)[0].Data), "\n") // CRLF on the wire
	host := e.job.Server.Pollname
	for _, want := range []string{
		fmt.Sprintf("INFO 1 message for msingh at %s (%d octets).", host, size),
		fmt.Sprintf("INFO reading message msingh@%s:1 of 1 (%d octets) delivered to maildir %s", host, size, e.maildir),
	} {
		if !rl.has(want) {
			t.Errorf("no line %q in\n%s", want, rl)
		}
	}
}

func TestPollSummaryWordingIMAP(t *testing.T) {
	for _, c := range []struct{ extra, folder string }{{"", ""}, {"folder Work", " (folder Work)"}} {
		e := newIMAPEnv(t, nil, c.extra)
		box := "INBOX"
		if c.folder != "" {
			box = "Work"
			if err := e.srv.User.Create("Work", nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.srv.Append(box, imapMsg("one")); err != nil {
			t.Fatal(err)
		}
		rl := &recordLog{}
		e.opts.Logger = slog.New(rl)
		if res := e.poll(t); res.Err != nil {
			t.Fatal(res.Err)
		}
		want := fmt.Sprintf("INFO 1 message for msingh at %s%s.", e.job.Server.Pollname, c.folder)
		if !rl.has(want) {
			t.Errorf("%q: no line %q in\n%s", c.extra, want, rl)
		}
		if res := e.poll(t); res.Err != nil {
			t.Fatal(res.Err)
		}
		if want := fmt.Sprintf("INFO No mail for msingh at %s%s", e.job.Server.Pollname, c.folder); !rl.has(want) {
			t.Errorf("%q: no line %q in\n%s", c.extra, want, rl)
		}
	}
}

// A daemon's poll that finds no mail says nothing without -v, as
// fetchmail's ("pointless in normal daemon mode"): neither "polling" nor
// "No mail" is logged above debug level. A one-shot run says both.
func TestDaemonQuietWithoutMail(t *testing.T) {
	for _, daemon := range []bool{false, true} {
		e := newTestEnv(t, nil, nil)
		rl := &recordLog{}
		e.opts.Logger = slog.New(rl)
		e.opts.Daemon = daemon
		if res := e.poll(t); res.Err != nil {
			t.Fatal(res.Err)
		}
		host := e.job.Server.Pollname
		want := map[bool]string{false: "INFO", true: "DEBUG"}[daemon]
		if l := want + " No mail for msingh at " + host; !rl.has(l) {
			t.Errorf("daemon %v: no line %q in\n%s", daemon, l, rl)
		}
		if daemon {
			for _, l := range strings.Split(rl.String(), "\n") {
				if !strings.HasPrefix(l, "DEBUG ") {
					t.Errorf("a daemon's poll without mail logs %q", l)
				}
			}
		}
	}
}

// A reloaded configuration without IDLE entries does not speak of
// restarting IDLE sessions (a daemon logged it at every reload).
func TestRunnerReloadWithoutIdleIsQuiet(t *testing.T) {
	e := newTestEnv(t, testMessages(1), nil)
	rl := &recordLog{}
	e.opts.Logger = slog.New(rl)
	r := NewRunner(e.opts)
	defer r.Close()
	r.Run(context.Background(), []Job{e.job}, e.uids)
	md := *e.job.User.Maildir
	e.rejob(t, pollRC(e.srv.Addr, "sslproto '' keep")) // a new configuration
	e.job.User.Maildir = &md
	r.Run(context.Background(), []Job{e.job}, e.uids)
	if strings.Contains(rl.String(), "IDLE") {
		t.Errorf("the reload speaks of IDLE:\n%s", rl)
	}
}

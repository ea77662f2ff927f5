package fetch

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
	"github.com/gofetchmail/gofetchmail/rcparse"
)

// scriptedMTA is go-smtp's server on loopback that refuses the recipients
// in refuse and records every message it accepts with its envelope.
type scriptedMTA struct {
	mu     sync.Mutex
	refuse map[string]error
	got    []mtaMsg
}

type mtaMsg struct {
	from string
	to   []string
	data string
}

func (m *scriptedMTA) start(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &scriptedSession{m: m}, nil }))
	srv.Domain = "mta.test"
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return "127.0.0.1/" + port
}

func (m *scriptedMTA) messages() []mtaMsg {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]mtaMsg(nil), m.got...)
}

type scriptedSession struct {
	m    *scriptedMTA
	from string
	to   []string
}

func (s *scriptedSession) Reset()        { s.from, s.to = "", nil }
func (s *scriptedSession) Logout() error { return nil }
func (s *scriptedSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *scriptedSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	if err := s.m.refuse[to]; err != nil {
		return err
	}
	s.to = append(s.to, to)
	return nil
}
func (s *scriptedSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.m.got = append(s.m.got, mtaMsg{s.from, s.to, string(b)})
	return nil
}

var noSuchUser = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}

// bounceEnv is a poll of msgs forwarded to a scripted MTA that refuses
// manish@127.0.0.1 with 550 5.1.1, under set no softbounce.
func bounceEnv(t *testing.T, msgs []pop3test.Message) (*testEnv, *scriptedMTA) {
	t.Helper()
	e := newTestEnv(t, msgs, nil)
	m := &scriptedMTA{refuse: map[string]error{"manish@127.0.0.1": noSuchUser}}
	e.job.User.Maildir = nil
	e.job.User.Smtphunt = []string{m.start(t)}
	e.job.Config.Softbounce = false
	return e, m
}

// TestBounceToSender: a message whose only recipient the MTA refuses
// permanently goes to the postmaster instead and is deleted, and, with
// bouncemail (the default), a DSN goes to its sender from the null sender,
// naming the refused recipient, the MTA's reply and the message's header:
// fetchmail 6.4's open_smtp_sink does both, under softbounce too.
func TestBounceToSender(t *testing.T) {
	for _, softbounce := range []bool{false, true} {
		e, m := bounceEnv(t, testMessages(2))
		e.job.Config.Softbounce = softbounce
		e.job.Config.Postmaster = "pm"
		res := e.poll(t)
		if res.Deleted != 2 || res.Delivered != 2 {
			t.Fatalf("softbounce %v: result %+v, want 2 delivered (to the postmaster) and deleted", softbounce, res)
		}
		var bounces, forwarded []mtaMsg
		for _, g := range m.messages() {
			if g.from == "" {
				bounces = append(bounces, g)
			} else {
				forwarded = append(forwarded, g)
			}
		}
		if len(forwarded) != 2 || len(bounces) != 2 {
			t.Fatalf("softbounce %v: the MTA got %d messages for the postmaster and %d bounces, want 2 and 2:\n%s", softbounce, len(forwarded), len(bounces), e.log)
		}
		for i, f := range forwarded {
			if len(f.to) != 1 || f.to[0] != "pm@127.0.0.1" || !strings.Contains(f.data, "Subject: test "+string(rune('1'+i))) {
				t.Errorf("message %d: RCPT TO %v, want the postmaster pm@127.0.0.1 and the message itself", i, f.to)
			}
		}
		for i, b := range bounces {
			if len(b.to) != 1 || b.to[0] != "a@example.org" {
				t.Errorf("bounce %d: MAIL FROM <%s> RCPT TO %v, want <> and a@example.org", i, b.from, b.to)
			}
			for _, want := range []string{
				"From: Mail Delivery System <MAILER-DAEMON@desk.example.net>\r\n",
				"Content-Type: multipart/report; report-type=delivery-status;",
				"Reason: Some addresses were rejected by the MDA fetchmail forwards to.\r\n",
				"Final-Recipient: rfc822; manish@127.0.0.1\r\n",
				"Status: 5.1.1\r\n",
				"Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n",
				"Subject: test " + string(rune('1'+i)) + "\r\n",
			} {
				if !strings.Contains(b.data, want) {
					t.Errorf("bounce %d lacks %q:\n%s", i, want, b.data)
				}
			}
		}
		for _, want := range []string{"bounced to a@example.org", "forwarding to the postmaster <pm@127.0.0.1>"} {
			if !strings.Contains(e.log.String(), want) {
				t.Errorf("softbounce %v: log lacks %q:\n%s", softbounce, want, e.log)
			}
		}
	}
}

// TestNoBouncemailGoesToPostmaster: with set no bouncemail the bounce goes
// to the postmaster too; with an empty postmaster nothing is sent: under
// no softbounce the refused message is deleted, under softbounce it stays.
func TestNoBouncemailGoesToPostmaster(t *testing.T) {
	e, m := bounceEnv(t, testMessages(1))
	e.job.Config.Bouncemail = false
	e.job.Config.Postmaster = "pm"
	e.poll(t)
	got := m.messages()
	if len(got) != 2 {
		t.Fatalf("the MTA got %+v, want the message and its bounce, both to pm@127.0.0.1", got)
	}
	for _, g := range got {
		if len(g.to) != 1 || g.to[0] != "pm@127.0.0.1" {
			t.Errorf("RCPT TO %v, want pm@127.0.0.1", g.to)
		}
	}

	for _, softbounce := range []bool{false, true} {
		e, m = bounceEnv(t, testMessages(1))
		e.job.Config.Bouncemail = false
		e.job.Config.Postmaster = ""
		e.job.Config.Softbounce = softbounce
		want := 1
		if softbounce {
			want = 0
		}
		if res := e.poll(t); res.Deleted != want {
			t.Errorf("softbounce %v, no postmaster: result %+v, want %d deleted", softbounce, res, want)
		}
		if got := m.messages(); len(got) != 0 {
			t.Errorf("the MTA got %d messages, want none (no postmaster)", len(got))
		}
	}
}

// TestNoBounceOfABounce: a message from the null sender or a mailer
// daemon goes to the postmaster without a bounce.
func TestNoBounceOfABounce(t *testing.T) {
	for _, rp := range []string{"<>", "<MAILER-DAEMON@mx.example.org>"} {
		msg := pop3test.Message{UID: "b1", Data: []byte("Return-Path: " + rp + "\nFrom: MAILER-DAEMON@mx.example.org\nSubject: failure\n\nbody\n")}
		e, m := bounceEnv(t, []pop3test.Message{msg})
		e.job.Config.Postmaster = "pm"
		if res := e.poll(t); res.Deleted != 1 {
			t.Errorf("%s: result %+v", rp, res)
		}
		got := m.messages()
		if len(got) != 1 || len(got[0].to) != 1 || got[0].to[0] != "pm@127.0.0.1" {
			t.Errorf("%s: the MTA got %+v, want the message for the postmaster and no bounce", rp, got)
		}
	}
}

// bigMessages are two messages over a limit of 100 octets and one under.
func bigMessages() []pop3test.Message {
	big := "From: a@example.org\nSubject: big\n\n" + strings.Repeat("x", 200) + "\n"
	return []pop3test.Message{
		{UID: "big1", Data: []byte(big)},
		{UID: "small", Data: []byte("From: a@example.org\nSubject: small\n\nhi\n")},
		{UID: "big2", Data: []byte(big)},
	}
}

// TestOversizedWarning: a poll that leaves oversized messages on the
// server mails the local user fetchmail's warning (into the entry's
// maildir here), once per warnings interval.
func TestOversizedWarning(t *testing.T) {
	e := newTestEnv(t, bigMessages(), nil)
	e.job.User.Limit = 100
	e.job.User.Warnings = 600
	e.opts.SizeWarnings = true // a detached daemon
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	e.opts.Now = func() time.Time { return now }
	// The memory of sent warnings is the daemon process's.
	e.runner = NewRunner(e.opts)
	defer e.runner.Close()
	res := e.poll(t)
	if res.Delivered != 1 || res.Skipped != 2 {
		t.Fatalf("result %+v", res)
	}
	var warnings []string
	for _, m := range e.delivered(t) {
		if strings.Contains(m, "Subject: Fetchmail oversized-messages warning\n") {
			warnings = append(warnings, m)
		}
	}
	if len(warnings) != 1 {
		t.Fatalf("%d warnings delivered, want 1:\n%s", len(warnings), e.log)
	}
	for _, want := range []string{
		"From: FETCHMAIL-DAEMON@desk.example.net\n",
		"To: manish\n",
		"The following oversized messages remain on server 127.0.0.1 account msingh:\n",
		"  2 messages 239 octets long skipped by fetchmail.\n\n-- \n",
		"-- \nThe Fetchmail Daemon\n",
	} {
		if !strings.Contains(warnings[0], want) {
			t.Errorf("warning lacks %q:\n%s", want, warnings[0])
		}
	}
	count := func() int {
		n := 0
		for _, m := range e.delivered(t) {
			if strings.Contains(m, "oversized-messages warning") {
				n++
			}
		}
		return n
	}
	now = now.Add(599 * time.Second)
	e.poll(t)
	if n := count(); n != 1 {
		t.Errorf("%d warnings after a second poll within the interval, want still 1", n)
	}
	now = now.Add(2 * time.Second)
	e.poll(t)
	if n := count(); n != 2 {
		t.Errorf("%d warnings after the interval, want 2", n)
	}
	// The clock set back an hour: the next poll warns, rather than
	// waiting for the clock to pass the last warning again.
	now = now.Add(-time.Hour)
	e.poll(t)
	if n := count(); n != 3 {
		t.Errorf("%d warnings after the clock was set back, want 3", n)
	}
}

// TestOversizedWarningMultidropToPostmaster: for a multidrop entry the
// warning goes to the postmaster, through the entry's SMTP target; with
// limitflush it says the messages were deleted.
func TestOversizedWarningMultidropToPostmaster(t *testing.T) {
	e := newTestEnv(t, bigMessages(), nil)
	m := &scriptedMTA{}
	e.job.User.Maildir = nil
	e.job.User.Smtphunt = []string{m.start(t)}
	e.job.User.Localnames = []rcparse.LocalName{{Local: "kilo"}, {Local: "lima"}}
	e.job.Config.Postmaster = "pm"
	e.job.User.Limit = 100
	e.job.User.Limitflush = true
	e.opts.SizeWarnings = true
	e.poll(t)
	var warning *mtaMsg
	for _, msg := range m.messages() {
		if strings.Contains(msg.data, "oversized-messages warning") {
			warning = &msg
		}
	}
	if warning == nil {
		t.Fatalf("no warning reached the MTA:\n%s", e.log)
	}
	if len(warning.to) != 1 || warning.to[0] != "pm@127.0.0.1" || warning.from != "FETCHMAIL-DAEMON@desk.example.net" {
		t.Errorf("warning envelope <%s> %v, want FETCHMAIL-DAEMON@desk.example.net to pm@127.0.0.1", warning.from, warning.to)
	}
	if !strings.Contains(warning.data, "were deleted on server") || !strings.Contains(warning.data, "deleted by fetchmail.") {
		t.Errorf("warning:\n%s", warning.data)
	}
}

// TestBouncePartialRefusal: a multidrop message the MTA accepts for one
// local user and refuses (550) for another is delivered, and bounced to
// its sender for the refused one, even under softbounce; a 553 refusal
// is not bounced.
func TestBouncePartialRefusal(t *testing.T) {
	msg := pop3test.Message{UID: "p1", Data: []byte("From: a@example.org\nTo: kilo@127.0.0.1, lima@127.0.0.1, mike@127.0.0.1\nSubject: partial\n\nhi\n")}
	e := newTestEnv(t, []pop3test.Message{msg}, nil)
	m := &scriptedMTA{refuse: map[string]error{
		"kilo@127.0.0.1": noSuchUser,
		"mike@127.0.0.1": &smtp.SMTPError{Code: 553, Message: "bad sender"},
	}}
	e.job.User.Maildir = nil
	e.job.User.Smtphunt = []string{m.start(t)}
	e.job.User.Localnames = []rcparse.LocalName{{Local: "kilo"}, {Local: "lima"}, {Local: "mike"}}
	e.job.Server.Envelope = nil
	if res := e.poll(t); res.Delivered != 1 || res.Deleted != 1 {
		t.Fatalf("result %+v", res)
	}
	got := m.messages()
	if len(got) != 2 {
		t.Fatalf("the MTA got %d messages, want the message and one bounce:\n%s", len(got), e.log)
	}
	if len(got[0].to) != 1 || got[0].to[0] != "lima@127.0.0.1" {
		t.Errorf("the message went to %v, want lima only", got[0].to)
	}
	b := got[1]
	if b.from != "" || len(b.to) != 1 || b.to[0] != "a@example.org" {
		t.Errorf("bounce envelope <%s> %v", b.from, b.to)
	}
	if !strings.Contains(b.data, "Final-Recipient: rfc822; kilo@127.0.0.1\r\n") || strings.Contains(b.data, "Final-Recipient: rfc822; mike") || strings.Contains(b.data, "Final-Recipient: rfc822; lima") {
		t.Errorf("the bounce should name kilo only:\n%s", b.data)
	}
}

// TestNoOversizedWarningOutsideADaemon: a one-shot run (or a daemon that
// did not detach) sends no warning, as fetchmail.
func TestNoOversizedWarningOutsideADaemon(t *testing.T) {
	e := newTestEnv(t, bigMessages(), nil)
	e.job.User.Limit = 100
	if res := e.poll(t); res.Delivered != 1 || res.Skipped != 2 {
		t.Fatalf("result %+v", res)
	}
	if got := e.delivered(t); len(got) != 1 || strings.Contains(got[0], "oversized-messages warning") {
		t.Errorf("delivered %d messages, want only the small one", len(got))
	}
}

// TestIMAPRefusedMessageBounced: an IMAP poll handles a permanent refusal
// as a POP3 poll does (undelivered): under set no softbounce with no
// postmaster the message is deleted on the server and bounced to its
// sender.
func TestIMAPRefusedMessageBounced(t *testing.T) {
	e := newIMAPEnv(t, nil, "")
	e.add(t, "INBOX", "refused")
	m := &scriptedMTA{refuse: map[string]error{"manish@127.0.0.1": noSuchUser}}
	e.job.User.Maildir = nil
	e.job.User.Smtphunt = []string{m.start(t)}
	e.job.Config.Softbounce = false
	e.job.Config.Postmaster = ""
	res := e.poll(t)
	if res.Deleted != 1 || res.Delivered != 0 {
		t.Fatalf("result %+v, want the refused message deleted", res)
	}
	if n, _ := e.count(t, "INBOX"); n != 0 {
		t.Errorf("INBOX holds %d, want 0", n)
	}
	got := m.messages()
	if len(got) != 1 || got[0].from != "" || len(got[0].to) != 1 || got[0].to[0] != "a@example.org" ||
		!strings.Contains(got[0].data, "Final-Recipient: rfc822; manish@127.0.0.1\r\n") {
		t.Errorf("the MTA got %+v, want one bounce to a@example.org", got)
	}
}

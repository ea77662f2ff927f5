package deliver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
)

func newTestSMTP(t *testing.T, o SMTPOptions) *SMTP {
	t.Helper()
	if o.Helo == "" {
		o.Helo = "client.test"
	}
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := NewSMTP(&o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// send delivers one message and returns Begin's or Commit's error.
func send(t *testing.T, d Deliverer, env Envelope, msg string) error {
	t.Helper()
	tx, err := d.Begin(context.Background(), env)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(tx, msg); err != nil {
		tx.Abort()
		return err
	}
	return tx.Commit()
}

func TestSMTPForwards(t *testing.T) {
	m := new(fakeMTA)
	host := newFakeMTA(t, m, false)
	s := newTestSMTP(t, SMTPOptions{Hosts: []string{host}})
	msg := "From: a@example.org\nSubject: hi\n\n.leading dot\nbody\n"
	if err := send(t, s, Envelope{From: "a@example.org", To: []string{"joe", "ann@elsewhere.test"}}, msg); err != nil {
		t.Fatal(err)
	}
	// The bounce sender <> and a second message on the same connection.
	if err := send(t, s, Envelope{From: "", To: []string{"joe"}}, "Subject: 2\n\nx\n"); err != nil {
		t.Fatal(err)
	}
	got := m.messages()
	if len(got) != 2 {
		t.Fatalf("server got %d messages, want 2", len(got))
	}
	want := strings.ReplaceAll(msg, "\n", "\r\n")
	if got[0].data != want {
		t.Errorf("data = %q, want %q", got[0].data, want)
	}
	if got[0].from != "a@example.org" || !slices.Equal(got[0].to, []string{"joe@127.0.0.1", "ann@elsewhere.test"}) {
		t.Errorf("envelope = %q %q", got[0].from, got[0].to)
	}
	if got[1].from != "" {
		t.Errorf("bounce sender = %q, want empty", got[1].from)
	}
	if m.count() != 1 {
		t.Errorf("%d SMTP sessions, want 1 (the connection is reused)", m.count())
	}
}

func TestSMTPRecipientAddress(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts SMTPOptions
		want []string
	}{
		{"smtpaddress", SMTPOptions{Address: "example.net"}, []string{"joe@example.net", "ann@example.net"}},
		{"smtpname", SMTPOptions{Name: "box@example.net"}, []string{"box@example.net"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := new(fakeMTA)
			tc.opts.Hosts = []string{newFakeMTA(t, m, false)}
			s := newTestSMTP(t, tc.opts)
			if err := send(t, s, Envelope{From: "a@b", To: []string{"joe", "ann"}}, "\nx\n"); err != nil {
				t.Fatal(err)
			}
			if got := m.messages(); len(got) != 1 || !slices.Equal(got[0].to, tc.want) {
				t.Fatalf("got %+v, want recipients %q", got, tc.want)
			}
		})
	}
}

func TestSMTPRefusals(t *testing.T) {
	for _, tc := range []struct {
		name      string
		m         fakeScript
		antispam  []int
		stage     string
		code      int
		permanent bool
		spam      bool
	}{
		{name: "MAIL 451", m: fakeScript{mailErr: reply(451, "try later")}, stage: "MAIL FROM", code: 451},
		{name: "MAIL 550", m: fakeScript{mailErr: reply(550, "no")}, stage: "MAIL FROM", code: 550, permanent: true},
		{name: "MAIL antispam", m: fakeScript{mailErr: reply(571, "spam")}, antispam: []int{571, 550}, stage: "MAIL FROM", code: 571, permanent: true, spam: true},
		{name: "RCPT 450", m: fakeScript{rcptErr: map[string]error{"joe@127.0.0.1": reply(450, "busy")}}, stage: "RCPT TO", code: 450},
		{name: "RCPT 550", m: fakeScript{rcptErr: map[string]error{"joe@127.0.0.1": reply(550, "unknown")}}, stage: "RCPT TO", code: 550, permanent: true},
		{name: "data 452", m: fakeScript{dataErr: reply(452, "full")}, stage: "end of data", code: 452},
		{name: "data 554", m: fakeScript{dataErr: reply(554, "rejected")}, antispam: []int{554}, stage: "end of data", code: 554, permanent: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &fakeMTA{fakeScript: tc.m}
			s := newTestSMTP(t, SMTPOptions{Hosts: []string{newFakeMTA(t, m, false)}, Antispam: tc.antispam})
			err := send(t, s, Envelope{From: "a@b", To: []string{"joe"}}, "\nx\n")
			var se *SMTPError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T), want *SMTPError", err, err)
			}
			if se.Stage != tc.stage || se.Code != tc.code || se.Permanent != tc.permanent || se.Spam != tc.spam || se.Temporary() == tc.permanent {
				t.Errorf("got %+v", se)
			}
			if n := len(m.messages()); n != 0 {
				t.Errorf("server stored %d messages", n)
			}
			// The connection is still usable for the next message.
			m.set(fakeScript{})
			if err := send(t, s, Envelope{From: "a@b", To: []string{"joe"}}, "\ny\n"); err != nil {
				t.Fatalf("next message: %v", err)
			}
			if m.count() != 1 {
				t.Errorf("%d sessions, want 1", m.count())
			}
		})
	}
}

func TestSMTPPartialRecipients(t *testing.T) {
	m := &fakeMTA{fakeScript: fakeScript{rcptErr: map[string]error{"bad@127.0.0.1": reply(550, "unknown user")}}}
	s := newTestSMTP(t, SMTPOptions{Hosts: []string{newFakeMTA(t, m, false)}})
	if err := send(t, s, Envelope{To: []string{"bad", "good"}}, "\nx\n"); err != nil {
		t.Fatalf("one recipient accepted: %v", err)
	}
	if got := m.messages(); len(got) != 1 || !slices.Equal(got[0].to, []string{"good@127.0.0.1"}) {
		t.Fatalf("got %+v", got)
	}
	// A temporary refusal of any recipient keeps the whole message.
	m.set(fakeScript{rcptErr: map[string]error{"bad@127.0.0.1": reply(451, "later")}})
	err := send(t, s, Envelope{To: []string{"good", "bad"}}, "\nx\n")
	var se *SMTPError
	if !errors.As(err, &se) || se.Permanent || se.Recipient != "bad@127.0.0.1" {
		t.Fatalf("err = %v, want a temporary RCPT error", err)
	}
	if n := len(m.messages()); n != 1 {
		t.Fatalf("%d messages stored, want still 1", n)
	}
}

func TestSMTPAuthPlain(t *testing.T) {
	m := &fakeMTA{fakeScript: fakeScript{authUser: "fm", authPass: "s3cret"}}
	host := newFakeMTA(t, m, false)
	s := newTestSMTP(t, SMTPOptions{Hosts: []string{host}, AuthUser: "fm", AuthPassword: "s3cret"})
	if err := send(t, s, Envelope{To: []string{"joe"}}, "\nx\n"); err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	authed := m.authed
	m.mu.Unlock()
	if !slices.Equal(authed, []string{"fm"}) {
		t.Fatalf("authenticated users %q", authed)
	}
	bad := newTestSMTP(t, SMTPOptions{Hosts: []string{host}, AuthUser: "fm", AuthPassword: "wrong"})
	err := send(t, bad, Envelope{To: []string{"joe"}}, "\nx\n")
	var ce *ConnectError
	var se *SMTPError
	if !errors.As(err, &ce) || !errors.As(err, &se) || se.Code != 535 {
		t.Fatalf("wrong password: %v", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("error shows the password: %v", err)
	}
}

func TestSMTPHunt(t *testing.T) {
	// A port nothing listens on: take one and close it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, dead, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	m := new(fakeMTA)
	live := newFakeMTA(t, m, false)
	s := newTestSMTP(t, SMTPOptions{Hosts: []string{"127.0.0.1/" + dead, live}})
	if err := send(t, s, Envelope{To: []string{"joe"}}, "\nx\n"); err != nil {
		t.Fatal(err)
	}
	if len(m.messages()) != 1 || s.String() != "smtp "+live {
		t.Fatalf("not delivered through the second host (%s)", s)
	}
	none := newTestSMTP(t, SMTPOptions{Hosts: []string{"127.0.0.1/" + dead}})
	var ce *ConnectError
	if err := send(t, none, Envelope{To: []string{"joe"}}, "\nx\n"); !errors.As(err, &ce) {
		t.Fatalf("no host: err = %v, want *ConnectError", err)
	}
}

func TestSMTPAbortDiscards(t *testing.T) {
	m := new(fakeMTA)
	s := newTestSMTP(t, SMTPOptions{Hosts: []string{newFakeMTA(t, m, false)}})
	tx, err := s.Begin(context.Background(), Envelope{To: []string{"joe"}})
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(tx, "Subject: partial\n\nhalf a mess")
	if err := tx.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err == nil {
		t.Fatal("Commit after Abort succeeded")
	}
	if err := send(t, s, Envelope{To: []string{"joe"}}, "Subject: whole\n\nx\n"); err != nil {
		t.Fatal(err)
	}
	got := m.messages()
	if len(got) != 1 || !strings.Contains(got[0].data, "whole") {
		t.Fatalf("server stored %+v", got)
	}
}

func TestLMTPPerRecipient(t *testing.T) {
	m := new(fakeMTA)
	sock := newFakeLMTPSocket(t, m)
	s := newTestSMTP(t, SMTPOptions{Hosts: []string{sock}, Antispam: []int{554}})
	if err := send(t, s, Envelope{To: []string{"joe", "ann"}}, "\nx\n"); err != nil {
		t.Fatal(err)
	}
	if got := m.messages(); len(got) != 1 || !slices.Equal(got[0].to, []string{"joe@localhost", "ann@localhost"}) {
		t.Fatalf("got %+v", got)
	}
	for _, tc := range []struct {
		name      string
		errs      map[string]error
		rcpt      string
		permanent bool
		spam      bool
	}{
		{"one temporary", map[string]error{"ann@localhost": reply(452, "over quota")}, "ann@localhost", false, false},
		{"temporary wins", map[string]error{"joe@localhost": reply(550, "no"), "ann@localhost": reply(452, "quota")}, "ann@localhost", false, false},
		{"all permanent", map[string]error{"joe@localhost": reply(550, "no"), "ann@localhost": reply(550, "no")}, "ann@localhost", true, false},
		{"antispam", map[string]error{"joe@localhost": reply(554, "spam")}, "joe@localhost", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m.set(fakeScript{lmtpErr: tc.errs})
			err := send(t, s, Envelope{To: []string{"joe", "ann"}}, "\nx\n")
			var se *SMTPError
			if !errors.As(err, &se) || se.Stage != "end of data" || se.Recipient != tc.rcpt || se.Permanent != tc.permanent || se.Spam != tc.spam {
				t.Fatalf("err = %#v", err)
			}
		})
	}
	if m.count() != 1 {
		t.Errorf("%d LMTP sessions, want 1", m.count())
	}
}

func TestLMTPOverTCP(t *testing.T) {
	m := &fakeMTA{fakeScript: fakeScript{lmtpErr: map[string]error{"joe@127.0.0.1": reply(451, "later")}}}
	s := newTestSMTP(t, SMTPOptions{Hosts: []string{newFakeMTA(t, m, true)}, LMTP: true})
	err := send(t, s, Envelope{To: []string{"joe"}}, "\nx\n")
	var se *SMTPError
	if !errors.As(err, &se) || se.Code != 451 || se.Permanent {
		t.Fatalf("err = %v", err)
	}
	if s.String() == "" || !strings.HasPrefix(s.String(), "lmtp ") {
		t.Errorf("String() = %q", s)
	}
}

func TestSMTPBadHost(t *testing.T) {
	for _, h := range []string{"", "host/99999", "host/nosuchservice-xyz"} {
		if _, err := NewSMTP(&SMTPOptions{Hosts: []string{h}}); err == nil {
			t.Errorf("NewSMTP(%q) accepted", h)
		}
	}
}

func TestSMTPContextCancel(t *testing.T) {
	m := new(fakeMTA)
	s := newTestSMTP(t, SMTPOptions{Hosts: []string{newFakeMTA(t, m, false)}})
	ctx, cancel := context.WithCancel(context.Background())
	tx, err := s.Begin(ctx, Envelope{To: []string{"joe"}})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	io.WriteString(tx, "\nx\n")
	if err := tx.Commit(); err == nil {
		t.Fatal("Commit succeeded after the context ended")
	}
	tx.Abort()
	if len(m.messages()) != 0 {
		t.Fatal("message stored")
	}
	if err := send(t, s, Envelope{To: []string{"joe"}}, "\nx\n"); err != nil {
		t.Fatalf("reconnect: %v", err)
	}
}

func TestSMTPReconnectsAfterIdleHangUp(t *testing.T) {
	m := new(fakeMTA)
	s := newTestSMTP(t, SMTPOptions{Hosts: []string{newFakeMTA(t, m, false)}})
	if err := send(t, s, Envelope{To: []string{"joe"}}, "\nfirst\n"); err != nil {
		t.Fatal(err)
	}
	m.hangUp()
	if err := send(t, s, Envelope{To: []string{"joe"}}, "\nsecond\n"); err != nil {
		t.Fatalf("after the server hung up: %v", err)
	}
	if got := m.messages(); len(got) != 2 || m.count() != 2 {
		t.Fatalf("%d messages in %d sessions, want 2 in 2", len(got), m.count())
	}
}

func TestSMTPBatchLimit(t *testing.T) {
	m := new(fakeMTA)
	s := newTestSMTP(t, SMTPOptions{Hosts: []string{newFakeMTA(t, m, false)}, BatchLimit: 2})
	for i := range 5 {
		if err := send(t, s, Envelope{To: []string{"joe"}}, "\nx\n"); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if len(m.messages()) != 5 || m.count() != 3 {
		t.Fatalf("%d messages in %d sessions, want 5 in 3", len(m.messages()), m.count())
	}
}

// TestSMTPPostmasterFallback: a message all of whose recipients are
// refused permanently goes to the Postmaster, the refused recipients still
// reported for the bounce; a postmaster refused too, or refused for now,
// keeps the message (Begin fails).
func TestSMTPPostmasterFallback(t *testing.T) {
	m := &fakeMTA{fakeScript: fakeScript{rcptErr: map[string]error{"bad@127.0.0.1": reply(550, "unknown user")}}}
	s := newTestSMTP(t, SMTPOptions{Hosts: []string{newFakeMTA(t, m, false)}, Postmaster: "pm"})
	tx, err := s.Begin(context.Background(), Envelope{From: "a@example.org", To: []string{"bad"}})
	if err != nil {
		t.Fatalf("Begin with a postmaster: %v", err)
	}
	io.WriteString(tx, "\nx\n")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	refused := tx.(PartialRefusal).Refused()
	if len(refused) != 1 || refused[0].Recipient != "bad@127.0.0.1" || refused[0].Code != 550 {
		t.Errorf("Refused() = %v, want bad@127.0.0.1 with 550", refused)
	}
	if got := m.messages(); len(got) != 1 || !slices.Equal(got[0].to, []string{"pm@127.0.0.1"}) {
		t.Fatalf("stored %+v, want one message for pm@127.0.0.1", got)
	}
	for _, pmErr := range []error{reply(550, "no postmaster here"), reply(451, "later")} {
		m.set(fakeScript{rcptErr: map[string]error{"bad@127.0.0.1": reply(550, "unknown user"), "pm@127.0.0.1": pmErr}})
		if err := send(t, s, Envelope{To: []string{"bad"}}, "\nx\n"); err == nil {
			t.Errorf("postmaster answered %v: the message was accepted", pmErr)
		}
		if n := len(m.messages()); n != 1 {
			t.Errorf("postmaster answered %v: %d messages stored, want still 1", pmErr, n)
		}
	}
	// Without a postmaster the refusal stands.
	m.set(fakeScript{rcptErr: map[string]error{"bad@127.0.0.1": reply(550, "unknown user")}})
	s2 := newTestSMTP(t, SMTPOptions{Hosts: []string{newFakeMTA(t, m, false)}})
	var se *SMTPError
	if err := send(t, s2, Envelope{To: []string{"bad"}}, "\nx\n"); !errors.As(err, &se) || !se.Permanent {
		t.Errorf("no postmaster: err = %v, want the permanent refusal", err)
	}
}

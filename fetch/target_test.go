package fetch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/gofetchmail/gofetchmail/deliver"
	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
	"github.com/gofetchmail/gofetchmail/rcparse"
)

// targetJob parses one poll entry with the given user options.
func targetJob(t *testing.T, userOpts string) Job {
	t.Helper()
	src := "poll pop.example.org proto pop3\n  user joe there is joe here password x " + userOpts + "\n"
	cfg, _, err := rcparse.Parse("test.rc", []byte(src), rcparse.Options{User: "joe", Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return Job{Config: cfg, Server: cfg.Servers[0], User: cfg.Servers[0].Users[0]}
}

// chosen returns the target openTarget picks, by its NewDeliverer name.
func chosen(t *testing.T, j Job, opts *Options) string {
	t.Helper()
	var got string
	opts.NewDeliverer = func(target string) (deliver.Deliverer, error) {
		got = target
		return deliver.NewMbox(filepath.Join(t.TempDir(), "mbox"), nil)
	}
	d, err := openTarget(j, opts)
	if err != nil {
		t.Fatalf("openTarget: %v", err)
	}
	d.Close()
	return got
}

// smtpListener serves SMTP on loopback and returns its "host/port" entry.
func smtpListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return nopSession{}, nil }))
	srv.Domain = "mta.test"
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return "127.0.0.1/" + port
}

type nopSession struct{}

func (nopSession) Reset()                               {}
func (nopSession) Logout() error                        { return nil }
func (nopSession) Mail(string, *smtp.MailOptions) error { return nil }
func (nopSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (nopSession) Data(r io.Reader) error               { _, err := io.Copy(io.Discard, r); return err }

// deadHost is a "host/port" entry nothing listens on.
func deadHost(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	return "127.0.0.1/" + port
}

func withDefaultSMTP(t *testing.T, host string) {
	old := defaultSMTPHosts
	defaultSMTPHosts = []string{host}
	t.Cleanup(func() { defaultSMTPHosts = old })
}

func TestTargetPrecedence(t *testing.T) {
	withDefaultSMTP(t, deadHost(t))
	for _, tc := range []struct{ opts, want string }{
		{`maildir "/m" mda "procmail" bsmtp "/b"`, "maildir /m"},
		{`mbox "/x" mda "procmail"`, "mbox /x"},
		{`bsmtp "/b" mda "procmail" smtphost mx.example.net`, "bsmtp /b"},
		{`mda "procmail -d %T" smtphost mx.example.net`, "mda procmail -d %T"},
		{`smtphost mx.example.net/2525 localhost`, "smtp mx.example.net/2525 localhost"},
		{`lmtp smtphost /run/dovecot/lmtp`, "lmtp /run/dovecot/lmtp"},
		{`smtpaddress example.net`, "smtp localhost"},
		{`smtpname box@example.net`, "smtp localhost"},
	} {
		t.Run(tc.opts, func(t *testing.T) {
			if got := chosen(t, targetJob(t, tc.opts), &Options{Home: t.TempDir()}); got != tc.want {
				t.Errorf("target %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTargetDefaultSMTP(t *testing.T) {
	host := smtpListener(t)
	withDefaultSMTP(t, host)
	if got := chosen(t, targetJob(t, ""), &Options{Home: t.TempDir()}); got != "smtp "+host {
		t.Fatalf("target %q, want the default SMTP host", got)
	}
	// Without NewDeliverer the SMTP deliverer itself is returned.
	d, err := openTarget(targetJob(t, ""), &Options{Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, ok := d.(*deliver.SMTP); !ok {
		t.Fatalf("got %T (%s), want *deliver.SMTP", d, d)
	}
}

func TestTargetFallbackToMaildir(t *testing.T) {
	withDefaultSMTP(t, deadHost(t))
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "Maildir", "new"), 0o700); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	opts := &Options{Home: home, Logger: slog.New(slog.NewTextHandler(&log, nil))}
	want := "maildir " + filepath.Join(home, "Maildir")
	for range 2 {
		if got := chosen(t, targetJob(t, ""), opts); got != want {
			t.Fatalf("target %q, want %q", got, want)
		}
	}
	if n := strings.Count(log.String(), "delivering to the local Maildir"); n != 1 {
		t.Fatalf("fallback logged %d times, want once:\n%s", n, log.String())
	}
}

func TestTargetExplicitSMTPNoFallback(t *testing.T) {
	dead := deadHost(t)
	withDefaultSMTP(t, smtpListener(t))
	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, "Maildir", "new"), 0o700)
	// An explicit smtphost that does not answer is not replaced by the
	// local mailbox: the error comes at delivery, and mail stays on the
	// server.
	d, err := openTarget(targetJob(t, "smtphost "+dead), &Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Begin(t.Context(), deliver.Envelope{To: []string{"joe"}}); err == nil {
		t.Fatal("Begin succeeded with a dead smtphost")
	}
}

func TestTargetSMTPOptions(t *testing.T) {
	src := "set invisible\npoll pop.example.org via gw.example.org proto pop3 esmtpname fm esmtppassword pw\n" +
		"  user joe there is joe here password x lmtp smtphost /run/lmtp smtpaddress ex.net antispam 571 550\n"
	cfg, _, err := rcparse.Parse("test.rc", []byte(src), rcparse.Options{User: "joe", Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	j := Job{Config: cfg, Server: cfg.Servers[0], User: cfg.Servers[0].Users[0]}
	so := smtpOptions(j, &Options{Hostname: "desk.test"})
	if so.AuthUser != "fm" || so.AuthPassword != "pw" || !so.LMTP || so.Address != "ex.net" ||
		len(so.Antispam) != 2 || so.Hosts[0] != "/run/lmtp" || so.Helo != "gw.example.org" {
		t.Fatalf("options %+v", so)
	}
}

func TestDeliveryVerdict(t *testing.T) {
	soft := targetJob(t, "")
	hard := targetJob(t, "")
	hard.Config.Softbounce = false
	perm := fmt.Errorf("wrapped: %w", &deliver.SMTPError{Code: 550, Permanent: true})
	temp := &deliver.SMTPError{Code: 451}
	spam := &deliver.SMTPError{Code: 571, Permanent: true, Spam: true}
	conn := &deliver.ConnectError{Hosts: []string{"localhost"}, Err: errors.New("refused")}
	for _, tc := range []struct {
		name string
		j    Job
		err  error
		want verdict
	}{
		{"softbounce keeps 5xx", soft, perm, verdictKeep},
		{"no softbounce deletes 5xx", hard, perm, verdictDelete},
		{"no softbounce deletes spam", hard, spam, verdictDelete},
		{"4xx keeps", hard, temp, verdictKeep},
		{"MDA failure keeps", hard, &deliver.MDAError{ExitCode: 1}, verdictKeep},
		{"no SMTP host stops", soft, conn, verdictStopPoll},
		{"disk full stops", soft, fmt.Errorf("maildir: write: %w", &os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}), verdictStopPoll},
		{"read-only file system stops", soft, &os.PathError{Op: "open", Path: "x", Err: syscall.EROFS}, verdictStopPoll},
	} {
		if got := deliveryVerdict(tc.j, tc.err); got != tc.want {
			t.Errorf("%s: verdict %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestHeaderOptions(t *testing.T) {
	j := targetJob(t, `dropstatus mimedecode mda "procmail"`)
	o := headerOptions(j)
	if !o.Rewrite || !o.DropStatus || o.DropDelivered || !o.MIMEDecode || !o.StripCR || o.ForceCR || o.Server != "pop.example.org" {
		t.Fatalf("options %+v", o)
	}
}

// recordingMTA is an SMTP server on loopback that stores what it accepts,
// or refuses every MAIL FROM with refuse.
type recordingMTA struct {
	mu     sync.Mutex
	refuse error
	rcpts  []string
	msgs   []string
}

func (m *recordingMTA) start(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &recSession{m: m}, nil }))
	srv.Domain = "mta.test"
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return "127.0.0.1/" + port
}

func (m *recordingMTA) got() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.msgs...)
}

type recSession struct{ m *recordingMTA }

func (*recSession) Reset()        {}
func (*recSession) Logout() error { return nil }
func (s *recSession) Mail(string, *smtp.MailOptions) error {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	return s.m.refuse
}
func (s *recSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.m.rcpts = append(s.m.rcpts, to)
	return nil
}
func (s *recSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.m.msgs = append(s.m.msgs, string(b))
	return nil
}

// TestPollForwardsOverSMTP runs a whole poll with smtphost set: every
// message reaches the SMTP server (CRLF, dot-stuffing undone by the
// server), RCPT TO is local@smtphost, and the mailbox is emptied.
func TestPollForwardsOverSMTP(t *testing.T) {
	e := newTestEnv(t, testMessages(3), nil)
	m := &recordingMTA{}
	e.job.User.Maildir = nil
	e.job.User.Smtphunt = []string{m.start(t)}
	res := e.poll(t)
	if res.Err != nil || res.Delivered != 3 || res.Deleted != 3 {
		t.Fatalf("result %+v", res)
	}
	got := m.got()
	if len(got) != 3 {
		t.Fatalf("the MTA got %d messages", len(got))
	}
	for _, msg := range got {
		if !strings.HasPrefix(msg, "Received: from 127.0.0.1\r\n") || !strings.Contains(msg, "\r\n.starts with a dot\r\n") {
			t.Errorf("message as the MTA got it:\n%q", msg)
		}
	}
	if m.rcpts[0] != "manish@127.0.0.1" {
		t.Errorf("RCPT TO %q", m.rcpts[0])
	}
	if n := len(e.mbox.Messages()); n != 0 {
		t.Errorf("%d left on the server", n)
	}
}

// TestPollSMTPRefusalKeepsMail: a 4xx and, under softbounce (the
// default), a 5xx refusal leave every message on the server.
func TestPollSMTPRefusalKeepsMail(t *testing.T) {
	for _, code := range []int{451, 550} {
		e := newTestEnv(t, testMessages(2), nil)
		m := &recordingMTA{refuse: &smtp.SMTPError{Code: code, Message: "no"}}
		e.job.User.Maildir = nil
		e.job.User.Smtphunt = []string{m.start(t)}
		res := e.poll(t)
		if res.Delivered != 0 || res.Deleted != 0 {
			t.Errorf("%d: result %+v", code, res)
		}
		if n := len(e.mbox.Messages()); n != 2 {
			t.Errorf("%d: %d left on the server, want 2", code, n)
		}
	}
}

// TestPollPlugout reaches the SMTP server through a plugout command, as
// fetchmail's plugout does: %h and %p substituted, SMTP over the command's
// stdin and stdout. The smtphost name does not resolve, so only the plugout
// can reach the server.
func TestPollPlugout(t *testing.T) {
	if _, err := os.Stat("/bin/bash"); err != nil {
		t.Skip("needs bash for /dev/tcp")
	}
	dir := t.TempDir()
	script, seen := filepath.Join(dir, "relay"), filepath.Join(dir, "seen")
	os.WriteFile(script, []byte("#!/bin/bash\necho \"$1 $2\" >>"+seen+"\nexec 3<>/dev/tcp/127.0.0.1/$2\ncat <&3 &\nexec cat >&3\n"), 0o755)
	e := newTestEnv(t, testMessages(2), nil)
	m := &recordingMTA{}
	e.job.User.Maildir = nil
	_, port, _ := strings.Cut(m.start(t), "/")
	e.job.User.Smtphunt = []string{"mta.invalid/" + port}
	plugout := script + " %h %p"
	e.job.Server.Plugout = &plugout
	res := e.poll(t)
	if res.Err != nil || res.Delivered != 2 {
		t.Fatalf("result %+v", res)
	}
	if got := m.got(); len(got) != 2 {
		t.Errorf("the MTA got %d messages through the plugout, want 2", len(got))
	}
	if b, _ := os.ReadFile(seen); !strings.HasPrefix(string(b), "mta.invalid "+port+"\n") {
		t.Errorf("plugout arguments %q, want %%h %%p = mta.invalid %s", b, port)
	}
}

// TestPollNoSoftbounceDeletesRefused: with set no softbounce, a message the
// MTA refuses permanently is deleted, as fetchmail does; with the default
// softbounce it stays (TestPollSMTPRefusalKeepsMail).
func TestPollNoSoftbounceDeletesRefused(t *testing.T) {
	e := newTestEnv(t, testMessages(2), nil)
	m := &recordingMTA{refuse: &smtp.SMTPError{Code: 550, Message: "no such user"}}
	e.job.User.Maildir = nil
	e.job.User.Smtphunt = []string{m.start(t)}
	e.job.Config.Softbounce = false
	res := e.poll(t)
	if res.Delivered != 0 || res.Deleted != 2 {
		t.Errorf("result %+v, want 0 delivered and 2 deleted", res)
	}
	if n := len(e.mbox.Messages()); n != 0 {
		t.Errorf("%d left on the server, want 0", n)
	}
}

// TestPollMultidropOverSMTP: a multidrop entry hands each message to the
// local users its header names, one RCPT each.
func TestPollMultidropOverSMTP(t *testing.T) {
	msg := pop3test.Message{UID: "md1", Data: []byte("From: a@example.org\nTo: kilo@127.0.0.1, x@elsewhere.org\nCc: lima@127.0.0.1\nSubject: md\n\nhi\n")}
	e := newTestEnv(t, []pop3test.Message{msg}, nil)
	m := &recordingMTA{}
	e.job.User.Maildir = nil
	e.job.User.Smtphunt = []string{m.start(t)}
	e.job.User.Localnames = []rcparse.LocalName{{Local: "kilo"}, {Local: "lima"}}
	e.job.Server.Envelope = nil
	if res := e.poll(t); res.Delivered != 1 {
		t.Fatalf("%+v", res)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.rcpts) != 2 || m.rcpts[0] != "kilo@127.0.0.1" || m.rcpts[1] != "lima@127.0.0.1" {
		t.Errorf("RCPT TO %v, want kilo and lima", m.rcpts)
	}
	// With several recipients fetchmail's Received line has no "for".
	if len(m.msgs) != 1 || strings.Contains(m.msgs[0], "\tfor <") {
		t.Errorf("message as delivered: %q", m.msgs)
	}
}

package deliver

import (
	"io"
	"net"
	"path/filepath"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// fakeMTA is an in-process go-smtp server on loopback with scripted
// answers. It records every message it accepted.
type fakeMTA struct {
	mu sync.Mutex
	fakeScript

	got      []fakeMsg
	authed   []string // users that authenticated
	sessions int
	conns    []net.Conn
}

// fakeScript holds the scripted answers; set replaces them.
type fakeScript struct {
	mailErr  error            // answer to MAIL FROM
	rcptErr  map[string]error // answer to RCPT TO, by address
	dataErr  error            // answer after the data (SMTP)
	lmtpErr  map[string]error // answers after the data, by recipient (LMTP)
	authUser string           // required AUTH PLAIN user ("" = no AUTH)
	authPass string
}

// script returns the current answers.
func (m *fakeMTA) script() fakeScript {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.fakeScript
}

// set replaces the answers.
func (m *fakeMTA) set(f fakeScript) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fakeScript = f
}

// hangUp closes every connection, as a server that timed them out.
func (m *fakeMTA) hangUp() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.conns {
		c.Close()
	}
	m.conns = nil
}

// count returns the number of sessions so far.
func (m *fakeMTA) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sessions
}

type fakeMsg struct {
	from string
	to   []string
	data string
}

// newFakeMTA serves on TCP loopback; it returns the "host/port" entry.
func newFakeMTA(t *testing.T, m *fakeMTA, lmtp bool) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m.serve(t, l, lmtp)
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return "127.0.0.1/" + port
}

// newFakeLMTPSocket serves LMTP on a unix socket; it returns its path.
func newFakeLMTPSocket(t *testing.T, m *fakeMTA) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "lmtp")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	m.serve(t, l, true)
	return path
}

func (m *fakeMTA) serve(t *testing.T, l net.Listener, lmtp bool) {
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		m.mu.Lock()
		m.conns = append(m.conns, c.Conn())
		m.sessions++
		m.mu.Unlock()
		return &fakeSession{m: m}, nil
	}))
	srv.Domain = "fake.test"
	srv.LMTP = lmtp
	srv.AllowInsecureAuth = true
	srv.ErrorLog = nopLogger{}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
}

func (m *fakeMTA) messages() []fakeMsg {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]fakeMsg(nil), m.got...)
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}
func (nopLogger) Println(...any)        {}

type fakeSession struct {
	m    *fakeMTA
	from string
	to   []string
}

func (s *fakeSession) Reset()        { s.from, s.to = "", nil }
func (s *fakeSession) Logout() error { return nil }

func (s *fakeSession) AuthMechanisms() []string {
	if s.m.script().authUser == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *fakeSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if sc := s.m.script(); user != sc.authUser || pass != sc.authPass {
			return smtp.ErrAuthFailed
		}
		s.m.mu.Lock()
		s.m.authed = append(s.m.authed, user)
		s.m.mu.Unlock()
		return nil
	}), nil
}

func (s *fakeSession) Mail(from string, _ *smtp.MailOptions) error {
	if err := s.m.script().mailErr; err != nil {
		return err
	}
	s.from = from
	return nil
}

func (s *fakeSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := s.m.script().rcptErr[to]; err != nil {
		return err
	}
	s.to = append(s.to, to)
	return nil
}

func (s *fakeSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := s.m.script().dataErr; err != nil {
		return err
	}
	s.m.mu.Lock()
	s.m.got = append(s.m.got, fakeMsg{s.from, s.to, string(b)})
	s.m.mu.Unlock()
	return nil
}

func (s *fakeSession) LMTPData(r io.Reader, status smtp.StatusCollector) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	var ok []string
	for _, to := range s.to {
		err := s.m.script().lmtpErr[to]
		status.SetStatus(to, err)
		if err == nil {
			ok = append(ok, to)
		}
	}
	if len(ok) > 0 {
		s.m.mu.Lock()
		s.m.got = append(s.m.got, fakeMsg{s.from, ok, string(b)})
		s.m.mu.Unlock()
	}
	return nil
}

// reply makes a scripted SMTP reply.
func reply(code int, msg string) error {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: msg}
}

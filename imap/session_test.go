package imap

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"

	"github.com/gofetchmail/gofetchmail/imap/imaptest"
)

func newServer(t *testing.T, opts *imaptest.Options) *imaptest.Server {
	t.Helper()
	srv, err := imaptest.NewServer("msingh", "foo bar\"pw", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

type tracer struct {
	mu    sync.Mutex
	lines []string
}

func (tr *tracer) trace(dir byte, line string) {
	tr.mu.Lock()
	tr.lines = append(tr.lines, string(dir)+" "+line)
	tr.mu.Unlock()
}

func (tr *tracer) String() string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return strings.Join(tr.lines, "\n")
}

func open(t *testing.T, addr string, tr *tracer) *Session {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	o := &Options{Timeout: 10 * time.Second}
	if tr != nil {
		o.Trace = tr.trace
	}
	s, err := Open(context.Background(), c, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func msg(i int, size int) []byte {
	body := strings.Repeat(fmt.Sprintf("line %d of a message body\r\n", i), size/26+1)
	return []byte(fmt.Sprintf("From: a@example.org\r\nSubject: m%d\r\n\r\n%s", i, body))
}

func TestSessionRetrieval(t *testing.T) {
	srv := newServer(t, nil)
	want := map[int][]byte{}
	for i := 1; i <= 5; i++ {
		want[i] = msg(i, 100000*i)
		flags := []string{}
		if i == 2 {
			flags = append(flags, FlagSeen)
		}
		if err := srv.Append("INBOX", want[i], flags...); err != nil {
			t.Fatal(err)
		}
	}
	tr := &tracer{}
	s := open(t, srv.Addr, tr)
	ctx := context.Background()
	if s.PreAuth() {
		t.Fatal("PREAUTH reported for an OK greeting")
	}
	if err := s.Login(ctx, "msingh", "foo bar\"pw"); err != nil {
		t.Fatal(err)
	}
	mb, err := s.Select(ctx, "INBOX", false)
	if err != nil {
		t.Fatal(err)
	}
	if mb.Exists != 5 || mb.UIDValidity == 0 {
		t.Fatalf("SELECT: %+v", mb)
	}
	all, err := s.Search(ctx, Query{})
	if err != nil || len(all) != 5 {
		t.Fatalf("SEARCH ALL: %v %v", all, err)
	}
	unseen, err := s.Search(ctx, Query{Unseen: true, Undeleted: true})
	if err != nil || len(unseen) != 4 || unseen[1] != all[2] {
		t.Fatalf("SEARCH UNSEEN: %v %v (all %v)", unseen, err, all)
	}
	// UID n:* with n past the last UID must not return the last message.
	if got, err := s.Search(ctx, Query{FromUID: all[4] + 10}); err != nil || len(got) != 0 {
		t.Fatalf("SEARCH UID past the end: %v %v", got, err)
	}
	sizes, err := s.Sizes(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	got := map[uint32][]byte{}
	err = s.FetchBodies(ctx, all, func(b Body) error {
		data, err := io.ReadAll(b.R)
		if err != nil {
			return err
		}
		if int64(len(data)) != b.Size || b.Size != sizes[b.UID] {
			t.Errorf("UID %d: %d octets read, literal %d, RFC822.SIZE %d", b.UID, len(data), b.Size, sizes[b.UID])
		}
		got[b.UID] = data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range all {
		if string(got[u]) != string(want[i+1]) {
			t.Errorf("message %d (UID %d) differs", i+1, u)
		}
	}
	// BODY.PEEK left the flags alone.
	if _, n, _ := srv.Count("INBOX"); n != 4 {
		t.Errorf("after fetching %d unseen, want 4", n)
	}
	if err := s.Store(ctx, all[:2], FlagSeen, FlagDeleted); err != nil {
		t.Fatal(err)
	}
	if err := s.Expunge(ctx, all[:2]); err != nil {
		t.Fatal(err)
	}
	if n, u, _ := srv.Count("INBOX"); n != 3 || u != 3 {
		t.Errorf("after expunge: %d messages, %d unseen; want 3, 3", n, u)
	}
	if err := s.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	trace := tr.String()
	if strings.Contains(trace, "bar") || strings.Contains(trace, "line 1 of") {
		t.Errorf("the trace shows the password or a message body:\n%s", trace)
	}
	if !strings.Contains(trace, "LOGIN") || !strings.Contains(trace, "octets not shown") {
		t.Errorf("the trace lacks the LOGIN or the literal note:\n%s", trace)
	}
}

func TestSessionPreAuth(t *testing.T) {
	srv := newServer(t, &imaptest.Options{PreAuth: true})
	srv.Append("INBOX", msg(1, 10))
	s := open(t, srv.Addr, nil)
	if !s.PreAuth() {
		t.Fatal("PREAUTH greeting not detected")
	}
	if err := s.StartTLS(context.Background(), &tls.Config{}); err == nil {
		t.Fatal("STARTTLS after PREAUTH accepted")
	}
	mb, err := s.Select(context.Background(), "INBOX", true)
	if err != nil || mb.Exists != 1 {
		t.Fatalf("EXAMINE without login: %+v %v", mb, err)
	}
}

func TestSessionAuthErrors(t *testing.T) {
	srv := newServer(t, nil)
	s := open(t, srv.Addr, nil)
	err := s.Login(context.Background(), "msingh", "wrong")
	if !IsAuthError(err) {
		t.Fatalf("LOGIN with a wrong password: %v (%T), want an auth error", err, err)
	}
	err = s.Authenticate(context.Background(), sasl.NewPlainClient("", "msingh", "wrong"))
	if !IsAuthError(err) {
		t.Fatalf("AUTHENTICATE PLAIN with a wrong password: %v, want an auth error", err)
	}
	if err := s.Authenticate(context.Background(), sasl.NewPlainClient("", "msingh", "foo bar\"pw")); err != nil {
		t.Fatalf("AUTHENTICATE PLAIN: %v", err)
	}
}

// fakeServer answers each connection with script (then holds it open).
func fakeServer(t *testing.T, script string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.WriteString(c, script)
				io.Copy(io.Discard, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func TestSessionGreetings(t *testing.T) {
	cases := []struct {
		script string
		check  func(error) bool
	}{
		{"+OK dovecot ready.\r\n", func(err error) bool { var pe *ProtocolError; return errors.As(err, &pe) }},
		{"* BYE [UNAVAILABLE] too busy\r\n", IsUnavailable},
	}
	for _, c := range cases {
		conn, err := net.Dial("tcp", fakeServer(t, c.script))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Open(context.Background(), conn, nil)
		if !c.check(err) {
			t.Errorf("greeting %q: %v (%T)", c.script, err, err)
		}
	}
}

// A server that never answers: the context ends the wait by closing the
// connection.
func TestSessionContextCancel(t *testing.T) {
	conn, err := net.Dial("tcp", fakeServer(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Open(ctx, conn, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Open with a cancelled context: %v", err)
	}
}

// STARTTLS injection: data after the OK must be refused.
func TestSessionStartTLSInjection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.WriteString(c, "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n")
		buf := make([]byte, 100)
		c.Read(buf)
		io.WriteString(c, "G1 OK begin TLS\r\n* OK injected\r\n")
		io.Copy(io.Discard, c)
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	caps, _ := s.Caps(context.Background())
	if !caps.Has("STARTTLS") {
		t.Fatal("STARTTLS not seen in the greeting's capabilities")
	}
	var pe *ProtocolError
	if err := s.StartTLS(context.Background(), &tls.Config{InsecureSkipVerify: true}); !errors.As(err, &pe) {
		t.Fatalf("STARTTLS with injected data: %v", err)
	}
}

func TestSessionStartTLS(t *testing.T) {
	cert := selfSigned(t)
	srv := newServer(t, &imaptest.Options{TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}})
	srv.Append("INBOX", msg(1, 10))
	s := open(t, srv.Addr, nil)
	ctx := context.Background()
	caps, err := s.Caps(ctx)
	if err != nil || !caps.Has("STARTTLS") {
		t.Fatalf("caps %v %v", caps, err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	if err := s.StartTLS(ctx, &tls.Config{ServerName: "localhost", RootCAs: pool}); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Conn().(*tls.Conn); !ok {
		t.Fatal("not TLS after STARTTLS")
	}
	if caps, err = s.Caps(ctx); err != nil || caps.Has("STARTTLS") {
		t.Fatalf("caps after STARTTLS: %v %v", caps, err)
	}
	if err := s.Login(ctx, "msingh", "foo bar\"pw"); err != nil {
		t.Fatal(err)
	}
	if mb, err := s.Select(ctx, "INBOX", false); err != nil || mb.Exists != 1 {
		t.Fatalf("SELECT over TLS: %+v %v", mb, err)
	}
}

func TestSessionIdle(t *testing.T) {
	srv := newServer(t, nil)
	s := open(t, srv.Addr, nil)
	ctx := context.Background()
	if err := s.Login(ctx, "msingh", "foo bar\"pw"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Select(ctx, "INBOX", false); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	var got bool
	go func() {
		var err error
		got, err = s.Idle(ctx, time.Hour)
		done <- err
	}()
	// Deliver until the IDLE sees it (the IDLE may not have started yet
	// when the first message arrives; later ones are announced).
	for i := 0; ; i++ {
		srv.Append("INBOX", msg(i, 10))
		select {
		case err := <-done:
			if err != nil || !got {
				t.Fatalf("Idle: %v %v", got, err)
			}
			if _, err := s.Noop(ctx); err != nil {
				t.Fatalf("NOOP after IDLE: %v", err)
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
		if i > 300 {
			t.Fatal("IDLE never reported the new messages")
		}
	}
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// noDeadlineConn fails the test if anyone sets a deadline on it, as an SSH
// channel conn (which closes itself when one passes) would punish.
type noDeadlineConn struct {
	net.Conn
	t *testing.T
}

func (c noDeadlineConn) SetDeadline(time.Time) error {
	c.t.Error("SetDeadline called on the connection")
	return nil
}

func (c noDeadlineConn) SetReadDeadline(tm time.Time) error {
	c.t.Error("SetReadDeadline called on the connection")
	return nil
}

func (c noDeadlineConn) SetWriteDeadline(time.Time) error {
	c.t.Error("SetWriteDeadline called on the connection")
	return nil
}

// A whole session (login, select, search, fetch, store, IDLE, logout) sets
// no deadline on the connection it was given.
func TestSessionSetsNoDeadlines(t *testing.T) {
	srv := newServer(t, nil)
	srv.Append("INBOX", msg(1, 1000))
	c, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := Open(ctx, noDeadlineConn{c, t}, &Options{Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Login(ctx, "msingh", "foo bar\"pw"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Select(ctx, "INBOX", false); err != nil {
		t.Fatal(err)
	}
	uids, err := s.Search(ctx, Query{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.FetchBodies(ctx, uids, func(b Body) error { _, err := io.Copy(io.Discard, b.R); return err }); err != nil {
		t.Fatal(err)
	}
	if err := s.Store(ctx, uids, FlagSeen); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Idle(ctx, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := s.Logout(ctx); err != nil {
		t.Fatal(err)
	}
}

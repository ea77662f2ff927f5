package pop3test

import (
	"bufio"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
)

// rawClient talks to the server line by line, without the pop3 package,
// so the wire format itself is checked.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

func dialRaw(t *testing.T, s *Server) *rawClient {
	t.Helper()
	conn, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &rawClient{t: t, conn: conn, br: bufio.NewReader(conn)}
	if g := c.line(); !strings.HasPrefix(g, "+OK ") {
		t.Fatalf("greeting %q", g)
	}
	return c
}

// line reads one line, which must end in CRLF, and returns it without.
func (c *rawClient) line() string {
	c.t.Helper()
	l, err := c.br.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v (got %q)", err, l)
	}
	if !strings.HasSuffix(l, "\r\n") {
		c.t.Fatalf("line %q does not end in CRLF", l)
	}
	return strings.TrimSuffix(l, "\r\n")
}

// do sends cmd and returns the status line.
func (c *rawClient) do(cmd string) string {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, cmd+"\r\n"); err != nil {
		c.t.Fatal(err)
	}
	return c.line()
}

// multi sends cmd, expects +OK and returns the raw lines up to ".".
func (c *rawClient) multi(cmd string) []string {
	c.t.Helper()
	if st := c.do(cmd); !strings.HasPrefix(st, "+OK") {
		c.t.Fatalf("%s: %q", cmd, st)
	}
	var out []string
	for {
		l := c.line()
		if l == "." {
			return out
		}
		out = append(out, l)
	}
}

func (c *rawClient) login(user, pass string) string {
	c.t.Helper()
	c.do("USER " + user)
	return c.do("PASS " + pass)
}

func start(t *testing.T, mb *Mailbox, opts *ServerOptions) *Server {
	t.Helper()
	s, err := NewServer(mb, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestWireFormat(t *testing.T) {
	mb := NewMailbox("u", "p",
		Message{Data: []byte("Subject: a\n\n.\n..x\nend")},
		Message{UID: "two", Data: []byte("Subject: b\r\nX: y\r\n\r\nl1\r\nl2\r\nl3\r\n")},
	)
	s := start(t, mb, nil)
	c := dialRaw(t, s)
	if st := c.do("STAT"); !strings.HasPrefix(st, "-ERR") {
		t.Errorf("STAT before login = %q", st)
	}
	if st := c.login("u", "p"); st != "+OK 2 message(s)" {
		t.Fatalf("login = %q", st)
	}
	// Sizes count CRLF line endings and a final one, before dot-stuffing.
	size1 := len("Subject: a\r\n\r\n.\r\n..x\r\nend\r\n")
	size2 := len("Subject: b\r\nX: y\r\n\r\nl1\r\nl2\r\nl3\r\n")
	if st := c.do("STAT"); st != fmt.Sprintf("+OK 2 %d", size1+size2) {
		t.Errorf("STAT = %q", st)
	}
	if got := strings.Join(c.multi("LIST"), "|"); got != fmt.Sprintf("1 %d|2 %d", size1, size2) {
		t.Errorf("LIST = %q", got)
	}
	if got := strings.Join(c.multi("UIDL"), "|"); got != "1 uid-1|2 two" {
		t.Errorf("UIDL = %q", got)
	}
	if st := c.do("UIDL 2"); st != "+OK 2 two" {
		t.Errorf("UIDL 2 = %q", st)
	}
	if got := strings.Join(c.multi("RETR 1"), "|"); got != "Subject: a||..|...x|end" {
		t.Errorf("RETR 1 (dot-stuffed) = %q", got)
	}
	if got := strings.Join(c.multi("TOP 2 1"), "|"); got != "Subject: b|X: y||l1" {
		t.Errorf("TOP 2 1 = %q", got)
	}
	if got := strings.Join(c.multi("TOP 2 0"), "|"); got != "Subject: b|X: y|" {
		t.Errorf("TOP 2 0 = %q", got)
	}
	for _, cmd := range []string{"RETR 3", "RETR 0", "RETR x", "DELE", "TOP 1", "BOGUS", "PASS p"} {
		if st := c.do(cmd); !strings.HasPrefix(st, "-ERR") {
			t.Errorf("%s = %q, want -ERR", cmd, st)
		}
	}
	if st := c.do("DELE 1"); !strings.HasPrefix(st, "+OK") {
		t.Errorf("DELE 1 = %q", st)
	}
	for _, cmd := range []string{"DELE 1", "RETR 1", "LIST 1"} {
		if st := c.do(cmd); !strings.HasPrefix(st, "-ERR") {
			t.Errorf("%s of deleted = %q", cmd, st)
		}
	}
	if got := c.multi("LIST"); len(got) != 1 || !strings.HasPrefix(got[0], "2 ") {
		t.Errorf("LIST after DELE = %q", got)
	}
	// QUIT commits before it answers.
	if st := c.do("QUIT"); !strings.HasPrefix(st, "+OK") {
		t.Errorf("QUIT = %q", st)
	}
	if left := mb.Messages(); len(left) != 1 || left[0].UID != "two" {
		t.Errorf("after QUIT: %+v", left)
	}
}

func TestDroppedSessionDeletesNothing(t *testing.T) {
	mb := NewMailbox("u", "p", Message{Data: []byte("a\n")}, Message{Data: []byte("b\n")})
	s := start(t, mb, nil)
	c := dialRaw(t, s)
	c.login("u", "p")
	c.do("DELE 1")
	c.do("DELE 2")
	c.conn.Close()
	s.Close()
	if n := len(mb.Messages()); n != 2 {
		t.Fatalf("dropped session deleted messages: %d left", n)
	}
}

func TestLocking(t *testing.T) {
	mb := NewMailbox("u", "p", Message{Data: []byte("a\n")})
	s := start(t, mb, nil)
	a := dialRaw(t, s)
	if st := a.login("u", "wrong"); st != "-ERR [AUTH] invalid credentials" {
		t.Errorf("wrong password = %q", st)
	}
	if st := a.login("nobody", "p"); st != "-ERR [AUTH] invalid credentials" {
		t.Errorf("wrong user = %q", st)
	}
	if st := a.do("PASS p"); !strings.HasPrefix(st, "-ERR") {
		t.Errorf("PASS without USER = %q", st)
	}
	a.login("u", "p")
	b := dialRaw(t, s)
	if st := b.login("u", "p"); !strings.HasPrefix(st, "-ERR [IN-USE]") {
		t.Errorf("second login = %q", st)
	}
	a.do("QUIT")
	// QUIT unlocked before answering, and Add is seen by the next session.
	mb.Add(Message{Data: []byte("new\n")})
	if st := b.login("u", "p"); st != "+OK 2 message(s)" {
		t.Errorf("login after QUIT = %q", st)
	}
}

// An empty maildrop is a normal logged-in session, and it unlocks again.
func TestEmptyMailbox(t *testing.T) {
	s := start(t, NewMailbox("u", "p"), nil)
	a := dialRaw(t, s)
	if st := a.login("u", "p"); st != "+OK 0 message(s)" {
		t.Fatalf("login = %q", st)
	}
	if st := a.do("STAT"); st != "+OK 0 0" {
		t.Errorf("STAT on an empty maildrop = %q", st)
	}
	a.do("QUIT")
	b := dialRaw(t, s)
	if st := b.login("u", "p"); st != "+OK 0 message(s)" {
		t.Errorf("login after QUIT = %q", st)
	}
}

func TestAPOPServer(t *testing.T) {
	s := start(t, NewMailbox("u", "p"), &ServerOptions{APOPTimestamp: true})
	conn, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := &rawClient{t: t, conn: conn, br: bufio.NewReader(conn)}
	g := c.line()
	i, j := strings.IndexByte(g, '<'), strings.IndexByte(g, '>')
	if i < 0 || j < i {
		t.Fatalf("greeting without timestamp: %q", g)
	}
	sum := md5.Sum([]byte(g[i:j+1] + "p"))
	if st := c.do("APOP u 00000000000000000000000000000000"); st != "-ERR [AUTH] invalid credentials" {
		t.Errorf("APOP bad digest = %q", st)
	}
	if st := c.do("APOP u " + hex.EncodeToString(sum[:])); !strings.HasPrefix(st, "+OK") {
		t.Errorf("APOP = %q", st)
	}
}

func TestPipelining(t *testing.T) {
	s := start(t, NewMailbox("u", "p", Message{UID: "x", Data: []byte("m\n")}), nil)
	c := dialRaw(t, s)
	io.WriteString(c.conn, "CAPA\r\nUSER u\r\nPASS p\r\nUIDL\r\nRETR 1\r\nNOOP\r\nQUIT\r\n")
	want := []string{"+OK capability list follows", "USER", "UIDL", "TOP", "PIPELINING", "RESP-CODES", "AUTH-RESP-CODE", ".",
		"+OK send PASS", "+OK 1 message(s)", "+OK listing follows", "1 x", ".",
		"+OK 3 octets", "m", ".", "+OK", "+OK pop3test signing off"}
	for _, w := range want {
		if got := c.line(); got != w {
			t.Fatalf("got %q, want %q", got, w)
		}
	}
	if _, err := c.br.ReadByte(); err != io.EOF {
		t.Errorf("connection not closed after QUIT: %v", err)
	}
}

func TestHookAndLog(t *testing.T) {
	var mu sync.Mutex
	var logged []string
	s := start(t, NewMailbox("u", "secret"), &ServerOptions{
		Capa: []string{"SASL PLAIN"},
		Hook: func(cmd string) (string, bool) {
			switch cmd {
			case "NOOP":
				return "-ERR [SYS/TEMP] scripted", true
			case "XDROP":
				return HookClose, true
			}
			return "", false
		},
		Logf: func(format string, args ...any) {
			mu.Lock()
			logged = append(logged, fmt.Sprintf(format, args...))
			mu.Unlock()
		},
	})
	c := dialRaw(t, s)
	if caps := c.multi("CAPA"); caps[len(caps)-1] != "SASL PLAIN" {
		t.Errorf("CAPA = %q", caps)
	}
	c.login("u", "secret")
	if st := c.do("NOOP"); st != "-ERR [SYS/TEMP] scripted" {
		t.Errorf("hooked NOOP = %q", st)
	}
	io.WriteString(c.conn, "XDROP\r\n")
	if _, err := c.br.ReadByte(); err != io.EOF {
		t.Errorf("HookClose did not close: %v", err)
	}
	s.Close()
	mu.Lock()
	defer mu.Unlock()
	all := strings.Join(logged, "\n")
	if strings.Contains(all, "secret") || !strings.Contains(all, "PASS *****") {
		t.Errorf("log:\n%s", all)
	}
}

func TestLongCommandLine(t *testing.T) {
	s := start(t, NewMailbox("u", "p"), nil)
	c := dialRaw(t, s)
	go io.WriteString(c.conn, "USER "+strings.Repeat("x", 8192)+"\r\n")
	if st := c.line(); !strings.HasPrefix(st, "-ERR") {
		t.Errorf("over-long command = %q", st)
	}
}

func TestServeConnPipe(t *testing.T) {
	s := start(t, NewMailbox("u", "p", Message{Data: []byte("hi\n")}), nil)
	a, b := net.Pipe()
	done := make(chan struct{})
	go func() { s.ServeConn(b); close(done) }()
	c := &rawClient{t: t, conn: a, br: bufio.NewReader(a)}
	c.line()
	c.login("u", "p")
	if got := c.multi("RETR 1"); len(got) != 1 || got[0] != "hi" {
		t.Errorf("RETR over pipe = %q", got)
	}
	s.Close() // ends the session
	<-done
}

// A session the Hook drops (HookClose) has unlocked the mailbox by the
// time its client sees the connection end: a client that logs in again at
// once is not told the mailbox is in use by the session it saw die.
func TestHookCloseUnlocksBeforeClosing(t *testing.T) {
	s, err := NewServer(NewMailbox("u", "p"), &ServerOptions{Hook: func(cmd string) (string, bool) {
		if cmd == "STAT" {
			return HookClose, true
		}
		return "", false
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 200 {
		a := dialRaw(t, s)
		a.login("u", "p")
		io.WriteString(a.conn, "STAT\r\n")
		if l, err := a.br.ReadString('\n'); err == nil {
			t.Fatalf("STAT answered %q, want the connection closed", l)
		}
		b := dialRaw(t, s)
		if st := b.do("USER u"); !strings.HasPrefix(st, "+OK") {
			t.Fatalf("USER: %q", st)
		}
		if st := b.do("PASS p"); !strings.HasPrefix(st, "+OK") {
			t.Fatalf("round %d: logging in right after the dropped session: %q", i, st)
		}
		b.do("QUIT")
		a.conn.Close()
		b.conn.Close()
	}
}

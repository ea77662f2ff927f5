package pop3_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/pop3"
	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
)

const (
	user = "alice"
	pass = "s3cret-pw"
)

// generous is a timeout that never fires in a working test.
const generous = 30 * time.Second

func newServer(t *testing.T, mb *pop3test.Mailbox, opts *pop3test.ServerOptions) *pop3test.Server {
	t.Helper()
	s, err := pop3test.NewServer(mb, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// transports connect a client to a server over loopback TCP or net.Pipe.
var transports = map[string]func(t *testing.T, s *pop3test.Server) net.Conn{
	"tcp": func(t *testing.T, s *pop3test.Server) net.Conn {
		conn, err := net.Dial("tcp", s.Addr)
		if err != nil {
			t.Fatal(err)
		}
		return conn
	},
	"pipe": func(t *testing.T, s *pop3test.Server) net.Conn {
		a, b := net.Pipe()
		go s.ServeConn(b)
		return a
	},
}

// connect returns a client that has read the greeting.
func connect(t *testing.T, s *pop3test.Server, tr string, opts *pop3.Options) *pop3.Client {
	t.Helper()
	if opts == nil {
		opts = &pop3.Options{Timeout: generous}
	}
	c := pop3.NewClient(transports[tr](t, s), opts)
	t.Cleanup(func() { c.Close() })
	if _, err := c.Greeting(context.Background()); err != nil {
		t.Fatalf("Greeting: %v", err)
	}
	return c
}

func login(t *testing.T, c *pop3.Client) {
	t.Helper()
	ctx := context.Background()
	if err := c.User(ctx, user); err != nil {
		t.Fatalf("USER: %v", err)
	}
	if err := c.Pass(ctx, pass); err != nil {
		t.Fatalf("PASS: %v", err)
	}
}

// fixtures are the awkward messages: every one must come back byte-exact.
var fixtures = []pop3test.Message{
	{UID: "plain", Data: []byte("From: a@example.org\nSubject: hi\n\nhello\n")},
	{UID: "dots", Data: []byte("Subject: dots\n\n.\n..\n...\n.leading dot\n. space\nend\n")},
	{UID: "crlf", Data: []byte("Subject: crlf\r\n\r\nline one\r\n.dot\r\n")},
	{UID: "8bit", Data: []byte("Subject: 8bit\n\n\xe4\xf6\xfc \xff\xfe\x80 nul:\x00: cr:\r: end\n")},
	{UID: "no-final-newline", Data: []byte("Subject: nonl\n\nlast line without newline")},
	{UID: "megaline", Data: append(append([]byte("Subject: big\n\n."), bytes.Repeat([]byte("0123456789"), 100_000)...), '\n')},
	{UID: "empty-body", Data: []byte("Subject: empty\n\n")},
}

// expected is what a fixture must read back as: LF endings (the wire
// form is CRLF), and a final newline added if it had none.
func expected(data []byte) []byte {
	want := bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	if len(want) > 0 && want[len(want)-1] != '\n' {
		want = append(want, '\n')
	}
	return want
}

func TestSession(t *testing.T) {
	for tr := range transports {
		t.Run(tr, func(t *testing.T) {
			ctx := context.Background()
			s := newServer(t, pop3test.NewMailbox(user, pass, fixtures...), nil)
			c := connect(t, s, tr, nil)

			caps, err := c.Capa(ctx)
			if err != nil {
				t.Fatalf("CAPA: %v", err)
			}
			if !caps.Has("uidl") || !caps.Has("TOP") || caps.Has("STLS") {
				t.Errorf("caps = %v", caps)
			}
			login(t, c)

			count, size, err := c.Stat(ctx)
			if err != nil || count != len(fixtures) {
				t.Fatalf("STAT = %d, %d, %v", count, size, err)
			}
			uids, err := c.UIDL(ctx)
			if err != nil || len(uids) != len(fixtures) {
				t.Fatalf("UIDL = %v, %v", uids, err)
			}
			sizes, err := c.List(ctx)
			if err != nil || len(sizes) != len(fixtures) {
				t.Fatalf("LIST = %v, %v", sizes, err)
			}
			var total int64
			for i, f := range fixtures {
				if uids[i] != (pop3.UID{Num: i + 1, UID: f.UID}) {
					t.Errorf("UIDL[%d] = %+v, want %d %s", i, uids[i], i+1, f.UID)
				}
				want := expected(f.Data)
				// On the wire every LF is CRLF.
				wireSize := int64(len(want) + bytes.Count(want, []byte("\n")))
				if sizes[i] != (pop3.Size{Num: i + 1, Size: wireSize}) {
					t.Errorf("LIST[%d] = %+v, want size %d", i, sizes[i], wireSize)
				}
				total += wireSize

				r, err := c.Retr(ctx, i+1)
				if err != nil {
					t.Fatalf("RETR %d: %v", i+1, err)
				}
				got, err := io.ReadAll(r)
				if err != nil {
					t.Fatalf("RETR %d read: %v", i+1, err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("RETR %s: got %d bytes %q..., want %d bytes %q...",
						f.UID, len(got), head(got), len(want), head(want))
				}
				if r.Bytes() != int64(len(want)) {
					t.Errorf("RETR %s: Bytes() = %d, want %d", f.UID, r.Bytes(), len(want))
				}
				if err := r.Close(); err != nil {
					t.Errorf("Close after EOF: %v", err)
				}
			}
			if size != total {
				t.Errorf("STAT size = %d, want %d", size, total)
			}
			if u, err := c.UIDLOne(ctx, 2); err != nil || u != "dots" {
				t.Errorf("UIDLOne(2) = %q, %v", u, err)
			}
			if sz, err := c.ListOne(ctx, 1); err != nil || sz != sizes[0].Size {
				t.Errorf("ListOne(1) = %d, %v", sz, err)
			}

			r, err := c.Top(ctx, 2, 2)
			if err != nil {
				t.Fatalf("TOP: %v", err)
			}
			got, err := io.ReadAll(r)
			if err != nil || string(got) != "Subject: dots\n\n.\n..\n" {
				t.Errorf("TOP 2 2 = %q, %v", got, err)
			}

			_, err = c.Retr(ctx, 99)
			var pe *pop3.Error
			if !errors.As(err, &pe) || pe.Command != "RETR" {
				t.Errorf("RETR 99 = %v, want *Error", err)
			}
			if err := c.Noop(ctx); err != nil {
				t.Errorf("NOOP after -ERR: %v", err)
			}
			if err := c.Quit(ctx); err != nil {
				t.Errorf("QUIT: %v", err)
			}
			if err := c.Noop(ctx); err == nil {
				t.Errorf("NOOP after QUIT succeeded")
			}
		})
	}
}

func head(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

func TestBadLogin(t *testing.T) {
	ctx := context.Background()
	s := newServer(t, pop3test.NewMailbox(user, pass), nil)
	c := connect(t, s, "tcp", nil)
	if err := c.User(ctx, user); err != nil {
		t.Fatal(err)
	}
	err := c.Pass(ctx, "wrong-password")
	var pe *pop3.Error
	if !errors.As(err, &pe) || pe.Command != "PASS" || pe.Code != "AUTH" {
		t.Fatalf("PASS wrong = %v, want *Error PASS AUTH", err)
	}
	if !pop3.IsAuthError(err) || pop3.IsInUse(err) {
		t.Errorf("IsAuthError = %v, IsInUse = %v", pop3.IsAuthError(err), pop3.IsInUse(err))
	}
	if strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("error %q shows the password", err)
	}
	// The session is still usable: log in properly.
	login(t, c)
}

func TestInUse(t *testing.T) {
	s := newServer(t, pop3test.NewMailbox(user, pass), nil)
	first := connect(t, s, "tcp", nil)
	login(t, first)
	second := connect(t, s, "tcp", nil)
	ctx := context.Background()
	second.User(ctx, user)
	err := second.Pass(ctx, pass)
	if !pop3.IsInUse(err) || pop3.IsAuthError(err) {
		t.Fatalf("second login = %v; want IN-USE", err)
	}
}

func TestDeletionsOnlyOnQuit(t *testing.T) {
	ctx := context.Background()
	mb := pop3test.NewMailbox(user, pass, fixtures[:3]...)
	s := newServer(t, mb, nil)

	// Dropped session: DELE then Close without QUIT deletes nothing.
	c := connect(t, s, "tcp", nil)
	login(t, c)
	if err := c.Dele(ctx, 1); err != nil {
		t.Fatal(err)
	}
	c.Close()
	s.Close() // waits for the session to end
	if n := len(mb.Messages()); n != 3 {
		t.Fatalf("after dropped session %d messages, want 3", n)
	}

	// RSET undoes, QUIT commits.
	s = newServer(t, mb, nil)
	c = connect(t, s, "pipe", nil)
	login(t, c)
	for _, step := range []func() error{
		func() error { return c.Dele(ctx, 1) },
		func() error { return c.Rset(ctx) },
		func() error { return c.Dele(ctx, 2) },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	if count, _, err := c.Stat(ctx); err != nil || count != 2 {
		t.Errorf("STAT after DELE = %d, %v; want 2", count, err)
	}
	if _, err := c.Retr(ctx, 2); err == nil {
		t.Errorf("RETR of a deleted message succeeded")
	}
	if err := c.Quit(ctx); err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, m := range mb.Messages() {
		left = append(left, m.UID)
	}
	if strings.Join(left, " ") != "plain crlf" {
		t.Errorf("after QUIT mailbox = %v, want [plain crlf]", left)
	}
}

func TestStallMidMessage(t *testing.T) {
	s := newServer(t, pop3test.NewMailbox(user, pass, fixtures[0]), &pop3test.ServerOptions{
		Hook: func(cmd string) (string, bool) {
			if cmd == "RETR 1" {
				return "+OK\r\nSubject: stall\r\n\r\nfirst line\r\n", true // then nothing
			}
			return "", false
		},
	})
	c := connect(t, s, "tcp", &pop3.Options{Timeout: 200 * time.Millisecond})
	login(t, c)
	r, err := c.Retr(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if !errors.Is(err, pop3.ErrTimeout) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read from stalled server: %v", err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("timeout error %v is not a net.Error with Timeout()", err)
	}
	if string(got) != "Subject: stall\n\nfirst line\n" {
		t.Errorf("data before the stall = %q", got)
	}
	if err := c.Noop(context.Background()); err == nil || !errors.Is(err, pop3.ErrTimeout) {
		t.Errorf("NOOP after timeout = %v, want the timeout again", err)
	}
}

func TestStallBeforeReply(t *testing.T) {
	s := newServer(t, pop3test.NewMailbox(user, pass), &pop3test.ServerOptions{
		Hook: func(cmd string) (string, bool) { return "", cmd == "STAT" },
	})
	c := connect(t, s, "pipe", &pop3.Options{Timeout: 200 * time.Millisecond})
	login(t, c)
	if _, _, err := c.Stat(context.Background()); !errors.Is(err, pop3.ErrTimeout) {
		t.Fatalf("STAT on stalled server = %v", err)
	}
}

func TestContextCancel(t *testing.T) {
	// The hook cancels the current ctx while the client waits.
	var mu sync.Mutex
	var current context.CancelFunc
	cancelCurrent := func() { mu.Lock(); current(); mu.Unlock() }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	current = cancel
	opts := &pop3test.ServerOptions{
		Hook: func(cmd string) (string, bool) {
			switch cmd {
			case "NOOP":
				cancelCurrent()
				return "", true
			case "RETR 1":
				// Half a message that never ends: only the
				// cancellation can end the read.
				return "+OK\r\npartial\r\n", true
			}
			return "", false
		},
	}
	s := newServer(t, pop3test.NewMailbox(user, pass, fixtures[0]), opts)

	// An already cancelled ctx sends nothing and leaves the session usable.
	c := connect(t, s, "tcp", nil)
	login(t, c)
	dead, deadCancel := context.WithCancel(context.Background())
	deadCancel()
	if err := c.Noop(dead); !errors.Is(err, context.Canceled) {
		t.Fatalf("NOOP with cancelled ctx = %v", err)
	}
	if _, _, err := c.Stat(context.Background()); err != nil {
		t.Fatalf("STAT after a refused call: %v", err)
	}

	// Cancelled while waiting: the call fails and so does the session.
	if err := c.Noop(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("NOOP cancelled while waiting = %v", err)
	}
	if err := c.Noop(context.Background()); err == nil {
		t.Fatal("session usable after cancellation")
	}

	// Cancelled during a message read. The cancel comes after RETR's
	// status line was read (cancelling in the server's hook raced with
	// that read and sometimes failed Retr itself).
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	s = newServer(t, pop3test.NewMailbox(user, pass, fixtures[0]), opts)
	c = connect(t, s, "pipe", nil)
	login(t, c)
	r, err := c.Retr(ctx2, 1)
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(50*time.Millisecond, cancel2)
	if _, err := io.ReadAll(r); !errors.Is(err, context.Canceled) {
		t.Fatalf("read cancelled message = %v", err)
	}
}

func TestResponseCodes(t *testing.T) {
	replies := map[string]string{
		"PASS sys":   "-ERR [SYS/TEMP] backend down",
		"PASS delay": "-ERR [LOGIN-DELAY] wait 15 minutes",
		"PASS perm":  "-ERR [SYS/PERM] account disabled",
		"PASS plain": "-ERR nope",
	}
	s := newServer(t, pop3test.NewMailbox(user, pass), &pop3test.ServerOptions{
		Hook: func(cmd string) (string, bool) { r, ok := replies[cmd]; return r, ok },
	})
	c := connect(t, s, "pipe", nil)
	ctx := context.Background()
	cases := []struct {
		pw, code    string
		auth, inUse bool
	}{
		{"sys", "SYS/TEMP", false, false},
		{"delay", "LOGIN-DELAY", false, true},
		{"perm", "SYS/PERM", false, false},
		{"plain", "", true, false},
	}
	for _, tc := range cases {
		err := c.Pass(ctx, tc.pw)
		var pe *pop3.Error
		if !errors.As(err, &pe) || pe.Code != tc.code || pe.Command != "PASS" {
			t.Errorf("PASS %s = %v, want code %q", tc.pw, err, tc.code)
			continue
		}
		if pop3.IsAuthError(err) != tc.auth || pop3.IsInUse(err) != tc.inUse {
			t.Errorf("PASS %s: IsAuthError %v IsInUse %v", tc.pw, pop3.IsAuthError(err), pop3.IsInUse(err))
		}
	}
}

func TestProtocolErrors(t *testing.T) {
	long := "+OK " + strings.Repeat("x", 70<<10)
	opts := &pop3test.ServerOptions{
		Hook: func(cmd string) (string, bool) {
			switch cmd {
			case "STAT":
				return "* OK this is IMAP", true
			case "NOOP":
				return long, true
			case "UIDL":
				return "+OK\r\nnot-a-number uid\r\n.\r\n", true
			}
			return "", false
		},
	}
	for _, cmd := range []func(c *pop3.Client) error{
		func(c *pop3.Client) error { _, _, err := c.Stat(context.Background()); return err },
		func(c *pop3.Client) error { return c.Noop(context.Background()) },
		func(c *pop3.Client) error { _, err := c.UIDL(context.Background()); return err },
	} {
		// A server each: the dropped sessions unlock asynchronously.
		s := newServer(t, pop3test.NewMailbox(user, pass), opts)
		c := connect(t, s, "tcp", nil)
		login(t, c)
		err := cmd(c)
		var pe *pop3.ProtocolError
		if !errors.As(err, &pe) {
			t.Errorf("got %v, want *ProtocolError", err)
		}
		c.Close()
	}
}

func TestUnexpectedEOF(t *testing.T) {
	s2opts := &pop3test.ServerOptions{
		Hook: func(cmd string) (string, bool) {
			switch cmd {
			case "RETR 1":
				return "+OK\r\npartial\r\n", true
			case "NOOP":
				return pop3test.HookClose, true
			}
			return "", false
		},
	}
	s := newServer(t, pop3test.NewMailbox(user, pass, fixtures[0]), s2opts)
	c := connect(t, s, "tcp", nil)
	login(t, c)
	r, err := c.Retr(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	n, _ := io.ReadAtLeast(r, buf, len("partial\n"))
	if string(buf[:n]) != "partial\n" {
		t.Fatalf("got %q", buf[:n])
	}
	if err := c.Noop(context.Background()); !errors.Is(err, pop3.ErrBusy) {
		t.Fatalf("NOOP with open reader = %v, want ErrBusy", err)
	}
	// A server that drops the connection gives io.EOF (another mailbox:
	// this one is locked by the open session).
	s2 := newServer(t, pop3test.NewMailbox(user, pass), s2opts)
	c2 := connect(t, s2, "tcp", nil)
	login(t, c2)
	if err := c2.Noop(context.Background()); !errors.Is(err, io.EOF) {
		t.Errorf("NOOP on dropped connection = %v, want io.EOF", err)
	}
	c.Close()
	if _, err := r.Read(buf); err == nil {
		t.Errorf("read after Close succeeded")
	}
}

func TestTraceMasksSecrets(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	trace := func(dir byte, line string) {
		mu.Lock()
		lines = append(lines, string(dir)+" "+line)
		mu.Unlock()
	}
	ctx := context.Background()
	s := newServer(t, pop3test.NewMailbox(user, pass), &pop3test.ServerOptions{APOPTimestamp: true})
	c := connect(t, s, "tcp", &pop3.Options{Timeout: generous, Trace: trace})
	c.User(ctx, user)
	c.Pass(ctx, "wrong-"+pass)
	if err := c.APOP(ctx, user, pass); err != nil {
		t.Fatalf("APOP: %v", err)
	}
	c.Cmd(ctx, "PASS %s", pass)
	c.Quit(ctx)
	all := strings.Join(lines, "\n")
	if strings.Contains(all, pass) {
		t.Errorf("trace shows the password:\n%s", all)
	}
	for _, want := range []string{"> USER alice", "> PASS *****", "> APOP alice *****", "< +OK pop3test ready <", "> QUIT"} {
		if !strings.Contains(all, want) {
			t.Errorf("trace lacks %q:\n%s", want, all)
		}
	}
}

func TestAPOP(t *testing.T) {
	ctx := context.Background()
	s := newServer(t, pop3test.NewMailbox(user, pass), &pop3test.ServerOptions{APOPTimestamp: true})
	c := connect(t, s, "pipe", nil)
	if err := c.APOP(ctx, user, "bad"); !pop3.IsAuthError(err) {
		t.Errorf("APOP bad password = %v, want auth error", err)
	}
	if err := c.APOP(ctx, user, pass); err != nil {
		t.Errorf("APOP = %v", err)
	}

	// Without a timestamp APOP is refused locally.
	plain := newServer(t, pop3test.NewMailbox(user, pass), nil)
	c = connect(t, plain, "pipe", nil)
	var pe *pop3.ProtocolError
	if err := c.APOP(ctx, user, pass); !errors.As(err, &pe) {
		t.Errorf("APOP without timestamp = %v, want *ProtocolError", err)
	}
	login(t, c) // nothing was sent; the session is fine
}

func TestCapaUnsupported(t *testing.T) {
	s := newServer(t, pop3test.NewMailbox(user, pass), &pop3test.ServerOptions{
		Hook: func(cmd string) (string, bool) { return "-ERR unknown command", cmd == "CAPA" },
	})
	c := connect(t, s, "pipe", nil)
	caps, err := c.Capa(context.Background())
	if err != nil || len(caps) != 0 || caps.Has("UIDL") {
		t.Errorf("CAPA on old server = %v, %v; want empty, nil", caps, err)
	}
	login(t, c)
}

func TestPipelinedServer(t *testing.T) {
	// Several commands in one write: the server must answer them in order.
	s := newServer(t, pop3test.NewMailbox(user, pass, fixtures[:2]...), nil)
	conn := transports["tcp"](t, s)
	defer conn.Close()
	if _, err := io.WriteString(conn, "USER alice\r\nPASS "+pass+"\r\nSTAT\r\nUIDL 2\r\nQUIT\r\n"); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(conn)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(got), "\r\n"), "\r\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[3], "+OK 2 ") || lines[4] != "+OK 2 dots" {
		t.Errorf("pipelined replies:\n%s", got)
	}
}

func TestReaderCloseContinuesSession(t *testing.T) {
	ctx := context.Background()
	s := newServer(t, pop3test.NewMailbox(user, pass, fixtures...), nil)
	c := connect(t, s, "pipe", nil)
	login(t, c)
	r, err := c.Retr(ctx, 6) // the 1 MB line
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Retr(ctx, 1); !errors.Is(err, pop3.ErrBusy) {
		t.Errorf("RETR with a reader open = %v, want ErrBusy", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if r.Bytes() != 10 {
		t.Errorf("Bytes() = %d, want 10", r.Bytes())
	}
	if u, err := c.UIDLOne(ctx, 7); err != nil || u != "empty-body" {
		t.Errorf("UIDL after Close = %q, %v", u, err)
	}
}

func TestCommandInjectionRefused(t *testing.T) {
	ctx := context.Background()
	mb := pop3test.NewMailbox(user, pass, fixtures[0])
	s := newServer(t, mb, nil)
	c := connect(t, s, "pipe", nil)
	if err := c.User(ctx, user+"\r\nQUIT"); err == nil {
		t.Fatal("USER with CRLF in the name was sent")
	}
	login(t, c) // nothing was sent: the session goes on
	if _, err := c.Cmd(ctx, "DELE 1\r\nQUIT"); err == nil {
		t.Fatal("Cmd with CRLF was sent")
	}
	if n, _, err := c.Stat(ctx); err != nil || n != 1 {
		t.Errorf("STAT = %d, %v", n, err)
	}
}

func TestEchoedPasswordMasked(t *testing.T) {
	s := newServer(t, pop3test.NewMailbox(user, pass), &pop3test.ServerOptions{
		Hook: func(cmd string) (string, bool) {
			if strings.HasPrefix(cmd, "PASS ") {
				return "-ERR [AUTH] bad password " + strings.TrimPrefix(cmd, "PASS "), true
			}
			return "", false
		},
	})
	var traced []string
	c := connect(t, s, "pipe", &pop3.Options{Timeout: generous, Trace: func(dir byte, line string) {
		traced = append(traced, line)
	}})
	err := c.Pass(context.Background(), pass)
	all := strings.Join(traced, "\n")
	if err == nil || strings.Contains(err.Error(), pass) || strings.Contains(all, pass) {
		t.Errorf("echoed password leaked: err %v, trace:\n%s", err, all)
	}
	if !pop3.IsAuthError(err) {
		t.Errorf("err %v is not an auth error", err)
	}
}

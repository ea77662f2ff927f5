package imap

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/gofetchmail/gofetchmail/internal/redact"
	"github.com/gofetchmail/gofetchmail/internal/sasl"
)

// Options tune a Session.
type Options struct {
	// Timeout bounds every call (and, while a message streams, every
	// stretch without progress); 0 means no bound but the context's.
	Timeout time.Duration
	// Trace, if set, receives every protocol line: dir is '>' for what the
	// client sends and '<' for what the server sends. Passwords, SASL
	// exchanges and message contents are masked.
	Trace func(dir byte, line string)
}

// Caps is a capability set, names upper-cased ("IDLE", "AUTH=PLAIN").
type Caps map[string]bool

// Has reports whether the server announced name.
func (c Caps) Has(name string) bool { return c[strings.ToUpper(name)] }

// SASL reports whether the server offers the SASL mechanism mech.
func (c Caps) SASL(mech string) bool { return c.Has("AUTH=" + mech) }

// Session is one IMAP session over a connection the caller opened. It is
// not safe for concurrent use.
type Session struct {
	opts    Options
	conn    net.Conn      // current connection (TLS after StartTLS)
	br      *bufio.Reader // reads conn before imapclient takes over
	preauth bool
	caps    Caps     // nil until known; before start only
	capList []string // as announced, for the hand-over greeting
	noIR    bool     // SASL-IR hidden from imapclient (AuthenticateTwoStep)
	tag     int      // tags of the commands sent before start
	client  *imapclient.Client
	budget  *budgetReader // what imapclient reads; bounds a command's answer (budget.go)
	newMail chan struct{} // EXISTS seen (for Idle)
	secrets redact.Set    // the login's secrets and wire forms, masked in replies

	killOnce sync.Once
	killed   atomic.Bool
	stray    strayBodies
	readErr  atomic.Bool // a read from the server failed (EOF, reset)

	// searchBudget is maxSearchBytes; tests lower it to keep the answer
	// they send small.
	searchBudget int64
}

// maxLine bounds a response line read before imapclient takes over.
const maxLine = 64 << 10

// Open reads the server's greeting on conn. conn belongs to the Session
// from now on: Close closes it.
func Open(ctx context.Context, conn net.Conn, opts *Options) (*Session, error) {
	s := &Session{conn: conn, br: bufio.NewReaderSize(conn, 4096), newMail: make(chan struct{}, 1), searchBudget: maxSearchBytes}
	if opts != nil {
		s.opts = *opts
	}
	err := s.call(ctx, "greeting", func() error {
		line, err := s.readLine()
		if err != nil {
			return err
		}
		r, ok := parseResp(line)
		if !ok || r.tag != "*" {
			return &ProtocolError{Op: "greeting", Msg: fmt.Sprintf("not an IMAP greeting: %q", clip(line, 80))}
		}
		switch r.status {
		case "OK":
		case "PREAUTH":
			s.preauth = true
		case "BYE":
			return &Error{Command: "greeting", Status: "BYE", Code: r.code, Text: r.text}
		default:
			return &ProtocolError{Op: "greeting", Msg: fmt.Sprintf("not an IMAP greeting: %q", clip(line, 80))}
		}
		if r.code == "CAPABILITY" {
			s.setCaps(r.codeArgs)
		}
		return nil
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// PreAuth reports whether the server greeted with PREAUTH: the session is
// already authenticated (an imapd run by ssh as the user) and no login
// may, or need, be done.
func (s *Session) PreAuth() bool { return s.preauth }

// Conn returns the connection in use: the TLS connection after StartTLS.
func (s *Session) Conn() net.Conn { return s.conn }

// Caps returns the server's capabilities, asking for them if the greeting
// did not carry them. After a login they are those of the authenticated
// state.
func (s *Session) Caps(ctx context.Context) (Caps, error) {
	if s.client != nil {
		var set goimap.CapSet
		err := s.call(ctx, "CAPABILITY", func() error {
			set = s.client.Caps()
			if set == nil {
				return errors.New("the server sent no capabilities")
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		c := Caps{}
		for k := range set {
			c[strings.ToUpper(string(k))] = true
		}
		return c, nil
	}
	if s.caps != nil {
		return s.caps, nil
	}
	err := s.call(ctx, "CAPABILITY", func() error {
		r, err := s.rawCommand("CAPABILITY", func(u resp) {
			if u.status == "CAPABILITY" {
				s.setCaps(strings.Fields(u.text))
			}
		})
		if err != nil {
			return err
		}
		if r.status != "OK" {
			return &Error{Command: "CAPABILITY", Status: r.status, Code: r.code, Text: r.text}
		}
		if r.code == "CAPABILITY" {
			s.setCaps(r.codeArgs)
		}
		if s.caps == nil {
			s.setCaps(nil)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.caps, nil
}

func (s *Session) setCaps(list []string) {
	s.capList = list
	s.caps = Caps{}
	for _, c := range list {
		s.caps[strings.ToUpper(c)] = true
	}
}

// StartTLS upgrades the connection with STARTTLS (RFC 3501 6.2.1). It must
// come before any other command but Caps, and never after a PREAUTH
// greeting. A NO or BAD answer is an *Error and leaves the session usable
// in the clear; anything else leaves it broken. The capabilities are
// forgotten: ask again with Caps.
func (s *Session) StartTLS(ctx context.Context, cfg *tls.Config) error {
	if s.client != nil {
		return &ProtocolError{Op: "STARTTLS", Msg: "too late: other commands were sent"}
	}
	if s.preauth {
		return &ProtocolError{Op: "STARTTLS", Msg: "the server greeted with PREAUTH; STARTTLS is not allowed in the authenticated state"}
	}
	return s.call(ctx, "STARTTLS", func() error {
		r, err := s.rawCommand("STARTTLS", nil)
		if err != nil {
			return err
		}
		if r.status != "OK" {
			return &Error{Command: "STARTTLS", Status: r.status, Code: r.code, Text: r.text}
		}
		if s.br.Buffered() > 0 {
			return &ProtocolError{Op: "STARTTLS", Msg: "the server sent data after its STARTTLS answer, before TLS (an injection attempt?); refused"}
		}
		tc := tls.Client(s.conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("TLS handshake: %w", err)
		}
		s.conn = tc
		s.br = bufio.NewReaderSize(tc, 4096)
		s.caps, s.capList = nil, nil
		return nil
	})
}

// start hands the connection over to imapclient, replaying a greeting that
// carries what was learnt (PREAUTH, the capabilities).
func (s *Session) start() error {
	if s.client != nil {
		return nil
	}
	if s.killed.Load() {
		return &ProtocolError{Op: "session", Msg: "the connection is closed"}
	}
	greet := "* OK"
	if s.preauth {
		greet = "* PREAUTH"
	}
	if s.caps != nil {
		greet += " [CAPABILITY " + strings.Join(s.handedCaps(), " ") + "]"
	}
	greet += " gofetchmail: session resumed\r\n"
	var under io.Reader = s.br
	var nc net.Conn = s.conn
	if s.opts.Trace != nil {
		tc := newTraceConn(s.conn, s.br, s.opts.Trace, &s.secrets)
		under, nc = tc, tc
	}
	s.budget = newBudgetReader(newCapGuard(io.MultiReader(strings.NewReader(greet), under)))
	pc := &prefixConn{Conn: nc, r: s.budget, failed: &s.readErr}
	s.client = imapclient.New(pc, &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					s.signalNewMail()
				}
			},
			Fetch: s.stray.unilateralFetch,
		},
	})
	return s.client.WaitGreeting()
}

func (s *Session) signalNewMail() {
	select {
	case s.newMail <- struct{}{}:
	default:
	}
}

// prefixConn reads from r (a replayed greeting, then the connection). It
// also keeps imapclient's deadlines (30 s per command write, per response,
// 5 minutes per literal) off the connection: an SSH channel conn closes
// itself when a deadline passes, and imapclient leaves the write deadline
// of an IDLE armed for as long as the IDLE lasts. The Session bounds every
// wait itself (call, FetchBodies' progress timer).
type prefixConn struct {
	net.Conn
	r      io.Reader
	failed *atomic.Bool // set when a read fails
}

func (c *prefixConn) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil {
		c.failed.Store(true)
	}
	return n, err
}

func (c *prefixConn) SetDeadline(time.Time) error      { return nil }
func (c *prefixConn) SetReadDeadline(time.Time) error  { return nil }
func (c *prefixConn) SetWriteDeadline(time.Time) error { return nil }

// call runs f bounded by ctx and Options.Timeout: when either ends, the
// connection is closed, which makes f return. The error names cmd.
func (s *Session) call(ctx context.Context, cmd string, f func() error) error {
	if s.killed.Load() {
		return &ProtocolError{Op: cmd, Msg: "the connection is closed"}
	}
	if s.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.opts.Timeout)
		defer cancel()
	}
	stop := context.AfterFunc(ctx, s.kill)
	err := f()
	if !stop() {
		return fmt.Errorf("imap: %s: connection closed: %w", cmd, ctx.Err())
	}
	return s.scrubErr(s.classify(cmd, err))
}

// classify is wrap, except that a failure of imapclient while every read
// from the server succeeded and the session was not closed by a timeout
// is what the server sent failing to parse: a *ProtocolError (fetchmail's
// exit status 4), not a connection error.
func (s *Session) classify(cmd string, err error) error {
	err = wrap(cmd, err)
	if err == nil || s.client == nil || s.killed.Load() || s.readErr.Load() {
		return err
	}
	var own *Error
	var pe *ProtocolError
	var ne net.Error
	switch {
	case errors.As(err, &own), errors.As(err, &pe), errors.As(err, &ne),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, sasl.ErrTooManyChallenges): // our own SASL client gave up
		return err
	}
	return &ProtocolError{Op: cmd, Msg: "the server's answer does not parse: " + err.Error()}
}

// scrubErr masks the login's secrets in what an error quotes of the
// server: a NO to LOGIN or AUTHENTICATE that echoes the password, its
// base64 or a SASL response never reaches a log.
func (s *Session) scrubErr(err error) error {
	if err == nil || s.secrets.Empty() {
		return err
	}
	var e *Error
	if errors.As(err, &e) {
		c := *e
		c.Text = s.secrets.Scrub(e.Text)
		return &c
	}
	var pe *ProtocolError
	if errors.As(err, &pe) {
		return &ProtocolError{Op: pe.Op, Msg: s.secrets.Scrub(pe.Msg)}
	}
	return s.secrets.Err(err)
}

// kill closes the connection at once; the session is unusable after.
func (s *Session) kill() {
	s.killOnce.Do(func() {
		s.killed.Store(true)
		if s.client != nil {
			s.client.Close()
		}
		s.conn.Close()
	})
}

// Close closes the connection without LOGOUT.
func (s *Session) Close() error {
	s.kill()
	return nil
}

// Logout sends LOGOUT and closes the connection.
func (s *Session) Logout(ctx context.Context) error {
	defer s.kill()
	if err := s.start(); err != nil {
		return wrap("LOGOUT", err)
	}
	return s.call(ctx, "LOGOUT", func() error { return s.client.Logout().Wait() })
}

// Noop sends NOOP and reports whether the server announced new mail
// (EXISTS) during it or an earlier command since the last Idle or Noop.
func (s *Session) Noop(ctx context.Context) (bool, error) {
	if err := s.start(); err != nil {
		return false, wrap("NOOP", err)
	}
	err := s.call(ctx, "NOOP", func() error { return s.client.Noop().Wait() })
	select {
	case <-s.newMail:
		return true, err
	default:
		return false, err
	}
}

// rawCommand sends one command before imapclient takes over and reads up
// to its tagged answer; untagged lines go to untagged.
func (s *Session) rawCommand(cmd string, untagged func(resp)) (resp, error) {
	s.tag++
	tag := fmt.Sprintf("G%d", s.tag)
	if s.opts.Trace != nil {
		s.opts.Trace('>', tag+" "+cmd)
	}
	if _, err := io.WriteString(s.conn, tag+" "+cmd+"\r\n"); err != nil {
		return resp{}, err
	}
	for {
		line, err := s.readLine()
		if err != nil {
			return resp{}, err
		}
		r, ok := parseResp(line)
		if !ok {
			return resp{}, &ProtocolError{Op: cmd, Msg: fmt.Sprintf("not an IMAP response: %q", clip(line, 80))}
		}
		switch r.tag {
		case tag:
			return r, nil
		case "*":
			if r.status == "BYE" {
				return resp{}, &Error{Command: cmd, Status: "BYE", Code: r.code, Text: r.text}
			}
			if untagged != nil {
				untagged(r)
			}
		default:
			return resp{}, &ProtocolError{Op: cmd, Msg: fmt.Sprintf("unexpected response: %q", clip(line, 80))}
		}
	}
}

// readLine reads one CRLF-terminated line of at most maxLine bytes.
func (s *Session) readLine() (string, error) {
	var b []byte
	for {
		frag, err := s.br.ReadSlice('\n')
		b = append(b, frag...)
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) && len(b) < maxLine {
			continue
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			return "", &ProtocolError{Op: "read", Msg: "response line too long"}
		}
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return "", err
	}
	line := strings.TrimRight(string(b), "\r\n")
	if s.opts.Trace != nil {
		s.opts.Trace('<', clip(line, 200))
	}
	return line, nil
}

// resp is one parsed status or data line.
type resp struct {
	tag, status string // status: OK NO BAD BYE PREAUTH, or a data name (CAPABILITY)
	code        string // response code name, upper-cased
	codeArgs    []string
	text        string
}

// parseResp parses `tag STATUS [CODE args] text` and `* NAME rest`.
func parseResp(line string) (resp, bool) {
	tag, rest, ok := strings.Cut(line, " ")
	if !ok || tag == "" {
		return resp{}, false
	}
	st, rest, _ := strings.Cut(rest, " ")
	r := resp{tag: tag, status: strings.ToUpper(st)}
	if r.status == "" {
		return resp{}, false
	}
	switch r.status {
	case "OK", "NO", "BAD", "BYE", "PREAUTH":
		if strings.HasPrefix(rest, "[") {
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return resp{}, false
			}
			f := strings.Fields(rest[1:end])
			if len(f) > 0 {
				r.code = strings.ToUpper(f[0])
				r.codeArgs = f[1:]
			}
			rest = strings.TrimLeft(rest[end+1:], " ")
		}
	default:
		if tag != "*" {
			return resp{}, false
		}
	}
	r.text = rest
	return r, true
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

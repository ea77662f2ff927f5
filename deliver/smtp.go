package deliver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/gofetchmail/gofetchmail/internal/redact"
	"github.com/gofetchmail/gofetchmail/internal/sasl"
)

// SMTPOptions configure forwarding to an SMTP or LMTP server, fetchmail's
// default delivery.
type SMTPOptions struct {
	// Hosts is the smtphost hunt list: "host", "host/port" or "/path" (a
	// unix socket, which always speaks LMTP). The first entry that answers
	// is used until Close or a connection failure. Default: "localhost".
	Hosts []string
	// LMTP speaks LMTP (LHLO, one reply per recipient after the data) to
	// TCP hosts too (fetchmail's "lmtp").
	LMTP bool
	// Address is the domain appended to local recipients in RCPT TO
	// (fetchmail's "smtpaddress"). Default: the name of the host that
	// answered, or "localhost" for a socket.
	Address string
	// Name, when set, replaces every RCPT TO address (fetchmail's
	// "smtpname").
	Name string
	// Helo is the name sent in EHLO/LHLO. Default: os.Hostname.
	Helo string
	// AuthUser and AuthPassword, when AuthUser is set, authenticate with
	// ESMTP AUTH (CRAM-MD5, PLAIN or LOGIN, the first the server offers)
	// when the server offers AUTH (fetchmail's "esmtpname" and
	// "esmtppassword").
	AuthUser, AuthPassword string
	// Antispam lists reply codes that mean "refused as spam" (fetchmail's
	// "antispam"); they set SMTPError.Spam.
	Antispam []int
	// Postmaster, when set, receives a message none of whose recipients
	// the server accepts: when every RCPT TO was refused permanently,
	// one more names this address (qualified like a local recipient),
	// and the message goes there, as fetchmail forwards it to its
	// postmaster ("no address matches; forwarding to postmaster"). The
	// refused recipients stay listed in the transaction's Refused, for
	// the bounce. "" keeps the message on the server instead.
	Postmaster string
	// Logger receives notices such as recipients refused while others
	// were accepted. Default: slog.Default.
	Logger *slog.Logger
	// BatchLimit, when positive, ends the connection with QUIT after that
	// many messages and opens a new one for the next (fetchmail's
	// "batchlimit", for MTAs that deliver only at the end of a session).
	BatchLimit int
	// Timeout bounds the greeting, EHLO and AUTH of a connection as a
	// whole (the rc "timeout"). Default: DefaultSMTPTimeout.
	Timeout time.Duration
	// Dial opens connections (tests). Default: a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// DefaultSMTPTimeout is SMTPOptions.Timeout when unset: fetchmail's
// default timeout.
const DefaultSMTPTimeout = 300 * time.Second

// SMTP forwards each message to an SMTP or LMTP server. One connection is
// kept open across messages. Commit returns nil only once the server has
// accepted the message after the end of the data; from then on delivery is
// the server's responsibility. Refusals are *SMTPError values.
type SMTP struct {
	opts SMTPOptions

	conn   net.Conn
	c      *smtp.Client
	host   string // the hunt entry that answered
	lmtp   bool   // the connection speaks LMTP
	sent   int    // messages accepted on this connection
	domain string // the RCPT TO domain
	inTx   bool
	// secrets are the AUTH password and its wire forms, masked in every
	// server reply an error quotes.
	secrets redact.Set
}

// NewSMTP prepares forwarding; it connects on the first Begin (or Connect).
func NewSMTP(opts *SMTPOptions) (*SMTP, error) {
	s := &SMTP{}
	if opts != nil {
		s.opts = *opts
	}
	if len(s.opts.Hosts) == 0 {
		s.opts.Hosts = []string{"localhost"}
	}
	for _, h := range s.opts.Hosts {
		if _, _, _, err := s.parseHost(h); err != nil {
			return nil, err
		}
	}
	if s.opts.Helo == "" {
		s.opts.Helo, _ = os.Hostname()
		if s.opts.Helo == "" {
			s.opts.Helo = "localhost"
		}
	}
	if s.opts.Logger == nil {
		s.opts.Logger = slog.Default()
	}
	if s.opts.Dial == nil {
		var d net.Dialer
		s.opts.Dial = d.DialContext
	}
	return s, nil
}

// String returns "smtp HOSTS" or "lmtp HOSTS" (the connected host once
// known).
func (s *SMTP) String() string {
	proto := "smtp"
	if s.opts.LMTP {
		proto = "lmtp"
	}
	if s.host != "" {
		return proto + " " + s.host
	}
	return proto + " " + strings.Join(s.opts.Hosts, " ")
}

// parseHost splits a hunt entry into a dial network and address, the
// default RCPT domain, and whether it speaks LMTP.
func (s *SMTP) parseHost(h string) (network, addr string, lmtp bool, err error) {
	if strings.HasPrefix(h, "/") {
		return "unix", h, true, nil
	}
	host, port := h, "smtp"
	if i := strings.LastIndexByte(h, '/'); i >= 0 {
		host, port = h[:i], h[i+1:]
	}
	if host == "" {
		return "", "", false, fmt.Errorf("smtp: bad host %q", h)
	}
	p, err := net.LookupPort("tcp", port)
	if err != nil {
		return "", "", false, fmt.Errorf("smtp: host %q: %w", h, err)
	}
	return "tcp", net.JoinHostPort(host, fmt.Sprint(p)), s.opts.LMTP, nil
}

// Connect connects to the first host of the hunt list that answers with a
// greeting and accepts EHLO (or LHLO), and authenticates when configured.
// It is a no-op when connected.
func (s *SMTP) Connect(ctx context.Context) error {
	if s.c != nil {
		return nil
	}
	var errs []error
	for _, h := range s.opts.Hosts {
		err := s.connect(ctx, h)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return &ConnectError{Hosts: s.opts.Hosts, Err: errors.Join(errs...)}
}

// ConnectError reports that no host of the hunt list could be used.
type ConnectError struct {
	Hosts []string
	Err   error
}

func (e *ConnectError) Error() string {
	return fmt.Sprintf("smtp: no usable host in %s: %v", strings.Join(e.Hosts, " "), e.Err)
}

func (e *ConnectError) Unwrap() error { return e.Err }

// connect tries one hunt entry.
func (s *SMTP) connect(ctx context.Context, h string) error {
	network, addr, lmtp, err := s.parseHost(h)
	if err != nil {
		return err
	}
	conn, err := s.opts.Dial(ctx, network, addr)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", h, err)
	}
	// The greeting, EHLO and AUTH together get the timeout: a server that
	// stalls, or keeps a SASL exchange going, is cut off.
	timeout := s.opts.Timeout
	if timeout <= 0 {
		timeout = DefaultSMTPTimeout
	}
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stop := context.AfterFunc(hctx, func() { conn.Close() })
	defer stop()
	var c *smtp.Client
	if lmtp {
		c = smtp.NewClientLMTP(conn)
	} else {
		c = smtp.NewClient(conn)
	}
	if err := c.Hello(s.opts.Helo); err != nil {
		c.Close()
		return s.smtpError(h, "greeting", "", err)
	}
	if s.opts.AuthUser != "" {
		if ok, _ := c.Extension("AUTH"); ok {
			s.secrets.Secret(s.opts.AuthPassword)
			if err := c.Auth(sasl.Guard(s.saslClient(c), &s.secrets)); err != nil {
				c.Close()
				return s.smtpError(h, "AUTH", "", err)
			}
		}
	}
	if !stop() {
		c.Close()
		return fmt.Errorf("smtp %s: no greeting, EHLO and AUTH within %s: %w", h, timeout, hctx.Err())
	}
	s.conn, s.c, s.host, s.lmtp, s.sent = conn, c, h, lmtp, 0
	s.domain = s.opts.Address
	if s.domain == "" {
		s.domain = "localhost"
		if network == "tcp" {
			s.domain, _, _ = net.SplitHostPort(addr)
		}
	}
	return nil
}

// drop closes the connection without QUIT; the next Begin reconnects.
func (s *SMTP) drop() {
	if s.c != nil {
		s.c.Close()
	}
	s.conn, s.c, s.host, s.inTx = nil, nil, "", false
}

// Close ends the session with QUIT.
func (s *SMTP) Close() error {
	if s.c == nil {
		return nil
	}
	s.conn.SetDeadline(time.Now().Add(30 * time.Second))
	err := s.c.Quit()
	s.drop()
	if err != nil {
		return fmt.Errorf("smtp: quit: %w", err)
	}
	return nil
}

// rcptAddr is the RCPT TO address for a local recipient: smtpname, or the
// recipient itself when it has a domain, else local@domain.
func (s *SMTP) rcptAddr(local string) string {
	switch {
	case s.opts.Name != "":
		return s.opts.Name
	case strings.Contains(local, "@"):
		return local
	}
	return local + "@" + s.domain
}

// Begin sends MAIL FROM, one RCPT TO per recipient and DATA. Recipients
// refused permanently are logged and skipped while at least one is
// accepted; when none is, the message goes to the Postmaster if one is
// set. A temporary refusal of any recipient, or no accepted recipient,
// fails Begin (after RSET) so that the message stays on the server.
func (s *SMTP) Begin(ctx context.Context, env Envelope) (Tx, error) {
	if s.inTx {
		return nil, errors.New("smtp: Begin while a message is in progress")
	}
	reused := s.c != nil
	tx, err := s.beginOn(ctx, env)
	var se *SMTPError
	var ce *ConnectError
	if err != nil && reused && s.c == nil && !errors.As(err, &se) && !errors.As(err, &ce) && ctx.Err() == nil {
		// The kept connection broke while idle (the server timed it
		// out during a long download, say): try once on a new one.
		tx, err = s.beginOn(ctx, env)
	}
	if err != nil {
		return nil, err
	}
	s.inTx = true
	return tx, nil
}

// beginOn connects if needed and starts the transaction.
func (s *SMTP) beginOn(ctx context.Context, env Envelope) (*smtpTx, error) {
	if err := s.Connect(ctx); err != nil {
		return nil, err
	}
	conn := s.conn
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	tx, err := s.begin(env)
	if err != nil {
		stop()
		return nil, err
	}
	tx.stop, tx.ctx = stop, ctx
	return tx, nil
}

func (s *SMTP) begin(env Envelope) (*smtpTx, error) {
	c, host := s.c, s.host
	// reset ends a refused transaction; a failed RSET drops the connection.
	fail := func(err error) (*smtpTx, error) {
		var se *SMTPError
		if !errors.As(err, &se) || c.Reset() != nil {
			s.drop()
		}
		return nil, err
	}
	if err := c.Mail(env.From, nil); err != nil {
		return fail(s.smtpError(host, "MAIL FROM", "", err))
	}
	to := env.To
	if len(to) == 0 {
		return fail(errors.New("smtp: no recipients"))
	}
	if s.opts.Name != "" {
		to = to[:1] // every recipient is the same address
	}
	var accepted int
	var refused []*SMTPError
	for _, r := range to {
		addr := s.rcptAddr(r)
		err := c.Rcpt(addr, nil)
		if err == nil {
			accepted++
			continue
		}
		e := s.smtpError(host, "RCPT TO", addr, err)
		se, ok := e.(*SMTPError)
		if !ok || !se.Permanent {
			return fail(e)
		}
		refused = append(refused, se)
		s.opts.Logger.Warn("recipient refused", "error", se.Error())
	}
	if accepted == 0 && s.opts.Postmaster != "" {
		addr := s.rcptAddr(s.opts.Postmaster)
		if err := c.Rcpt(addr, nil); err != nil {
			e := s.smtpError(host, "RCPT TO", addr, err)
			if se, ok := e.(*SMTPError); !ok || !se.Permanent {
				return fail(e)
			}
			s.opts.Logger.Warn("the postmaster is refused too; the message stays on the server", "error", e.Error())
		} else {
			accepted++
			s.opts.Logger.Warn(fmt.Sprintf("no recipient was accepted; forwarding to the postmaster <%s>, as fetchmail does", addr))
		}
	}
	if accepted == 0 {
		return fail(refused[len(refused)-1])
	}
	w, err := c.Data()
	if err != nil {
		return fail(s.smtpError(host, "DATA", "", err))
	}
	return &smtpTx{s: s, w: w, n: accepted, refused: refused}, nil
}

// smtpTx is one message in DATA.
type smtpTx struct {
	s *SMTP
	w *smtp.DataCommand
	n int // accepted recipients
	// refused are the recipients refused permanently at RCPT TO while
	// others accepted the message.
	refused []*SMTPError
	stop    func() bool
	ctx     context.Context
	txState
}

// Write sends message bytes; bare LF becomes CRLF and leading dots are
// doubled.
func (tx *smtpTx) Write(p []byte) (int, error) {
	wrap := func(err error) error { return fmt.Errorf("smtp %s: data: %w", tx.s.host, err) }
	if err := tx.ctx.Err(); err != nil && !tx.done && tx.err == nil {
		tx.err = wrap(err) // cancelled: nothing more is sent
	}
	return tx.write(tx.w, p, wrap)
}

// PartialRefusal is implemented by a Tx that can deliver a message while
// the server refuses some of its recipients (SMTP).
type PartialRefusal interface {
	Refused() []*SMTPError
}

// Refused returns the recipients the server refused permanently at RCPT
// TO while it accepted the message for others: they do not get it, and the
// engine bounces it for them as fetchmail does.
func (tx *smtpTx) Refused() []*SMTPError { return tx.refused }

// Commit ends the data and reads the server's verdict: nil means the
// server accepted the message (for LMTP: for every accepted recipient).
func (tx *smtpTx) Commit() error {
	if tx.done {
		return errTxDone
	}
	if tx.err == nil && tx.ctx.Err() != nil {
		tx.err = fmt.Errorf("smtp %s: end of data: %w", tx.s.host, tx.ctx.Err())
	}
	if tx.err != nil {
		err := tx.err
		tx.Abort()
		return err
	}
	tx.done = true
	s := tx.s
	defer tx.stop()
	s.inTx = false
	host := s.host
	if !s.lmtp {
		if _, err := tx.w.CloseWithResponse(); err != nil {
			e := s.smtpError(host, "end of data", "", err)
			if _, ok := e.(*SMTPError); !ok {
				s.drop()
			}
			return e
		}
		return s.accepted()
	}
	_, err := tx.w.CloseWithLMTPResponse()
	if err == nil {
		return s.accepted()
	}
	le, ok := err.(smtp.LMTPDataError)
	if !ok {
		// An I/O failure part way through the replies: what the server
		// did is unknown, so the message counts as not delivered.
		s.drop()
		return fmt.Errorf("smtp %s: end of data: %w", host, err)
	}
	// The worst reply wins: a temporary one keeps the message on the
	// server whatever the other recipients answered.
	var worst *SMTPError
	for rcpt, se := range le {
		e := s.fromReply(host, "end of data", rcpt, se)
		if worst == nil || (worst.Permanent && !e.Permanent) || (worst.Permanent == e.Permanent && e.Recipient < worst.Recipient) {
			worst = e
		}
	}
	if n := tx.n - len(le); n > 0 {
		worst.Message += fmt.Sprintf(" (%d other recipients accepted the message)", n)
	}
	return worst
}

// accepted counts a message the server took and ends the connection when
// BatchLimit is reached. A failed QUIT does not undo the delivery.
func (s *SMTP) accepted() error {
	s.sent++
	if s.opts.BatchLimit > 0 && s.sent >= s.opts.BatchLimit {
		if err := s.Close(); err != nil {
			s.opts.Logger.Warn("smtp: ending the batch", "error", err.Error())
		}
	}
	return nil
}

// Abort drops the connection before the end of the data, so the server
// discards the partial message.
func (tx *smtpTx) Abort() error {
	if tx.done {
		return nil
	}
	tx.done = true
	tx.stop()
	tx.s.drop()
	return nil
}

var (
	_ PartialRefusal = (*smtpTx)(nil)
	_ Deliverer      = (*SMTP)(nil)
	_ Deliverer      = (*BSMTP)(nil)
)

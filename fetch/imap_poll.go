package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gofetchmail/gofetchmail/imap"
)

// The IMAP connection of a poll: route, TLS, greeting and login, then one
// engine poll (engine.go) per folder, each folder an imapbox.Box (package mailbox/imapbox).

// imapRoute is chooseRoute for IMAP: default ports 143 and 993.
func (s *session) imapRoute() (*route, error) {
	sc := *s.job.Server
	sc.Protocol = "IMAP"
	return chooseRoute(&sc, s.job.User, s.opts)
}

// imapAbsent marks a failure that means "no IMAP server there": the
// connection was refused or the greeting was not IMAP. protocol auto then
// tries POP3.
type imapAbsent struct{ err error }

func (e *imapAbsent) Error() string { return e.err.Error() }
func (e *imapAbsent) Unwrap() error { return e.err }

// tryIMAP is protocol auto's first attempt, as in fetchmail: IMAP, and
// POP3 (done false) when no IMAP server answers.
func (s *session) tryIMAP(ctx context.Context, d *dialer) (done bool, err error) {
	err = s.runIMAP(ctx, d)
	var absent *imapAbsent
	if !errors.As(err, &absent) {
		return true, err
	}
	s.opts.logger().Info("no IMAP server answers; trying POP3 (protocol auto)", "poll", s.label, "err", absent.err)
	s.route, s.conn, s.imap = nil, nil, nil
	s.res = Result{}
	return false, nil
}

func (s *session) runIMAP(ctx context.Context, d *dialer) error {
	if err := s.imapConnect(ctx, d); err != nil {
		return err
	}
	defer s.imap.Close()
	defer s.closeTarget() // one target for all the folders
	if s.sub != nil {
		// For IMAP, expunge N is how often EXPUNGE is sent (imapbox.Box.Settle),
		// not POP3's sessions of N messages.
		s.sub.limit = 0
	}
	folders := s.job.User.Mailboxes
	if len(folders) == 0 {
		folders = []string{"INBOX"}
	}
	for _, f := range folders {
		err := s.poll(ctx, s.imapBox(f))
		s.reportKeepdays() // the folder's deletions are expunged by now
		if err != nil {
			return err
		}
	}
	if err := s.imap.Logout(ctx); err != nil {
		// Everything is expunged and recorded by now: nothing depends on it.
		s.opts.logger().Debug("LOGOUT failed", "poll", s.label, "err", err)
	}
	return nil
}

// imapConnect opens the IMAP session of s up to the authenticated state:
// route, dial, TLS (implicit or STARTTLS), greeting, login.
func (s *session) imapConnect(ctx context.Context, d *dialer) error {
	log := s.opts.logger()
	srv, u := s.job.Server, s.job.User
	auto := !strings.EqualFold(srv.Protocol, "IMAP")
	r, err := s.imapRoute()
	if err != nil {
		return err
	}
	s.route = r
	log.Log(ctx, s.opts.pollingLevel(), "polling "+s.label+" via "+r.describe()+" (IMAP)", "poll", s.label)
	conn, err := d.dial(ctx, r, srv, s.timeout())
	if err != nil {
		if auto {
			return &imapAbsent{err}
		}
		return err
	}
	s.conn = conn
	if u.SSL {
		if conn, err = s.implicitTLS(ctx, conn); err != nil {
			return err
		}
	}
	iopts := &imap.Options{Timeout: s.timeout()}
	if s.opts.Verbose > 0 {
		iopts.Trace = func(dir byte, line string) { log.Debug("IMAP" + string(dir) + " " + line) }
	}
	sess, err := imap.Open(ctx, conn, iopts)
	if err != nil {
		var pe *imap.ProtocolError
		if auto && (errors.As(err, &pe) || errors.Is(err, io.ErrUnexpectedEOF)) {
			return &imapAbsent{err}
		}
		return err
	}
	s.imap = sess
	s.conn = sess.Conn()
	err = s.imapSecureAndLogin(ctx)
	if err != nil {
		sess.Close()
	}
	return err
}

// imapSecureAndLogin runs STARTTLS and the login of a fresh session.
func (s *session) imapSecureAndLogin(ctx context.Context) error {
	u := s.job.User
	if err := s.imapStartTLS(ctx); err != nil {
		return err
	}
	if s.encrypted() && !u.SSLCertck && u.SSLFingerprint == nil {
		s.opts.logger().Warn("the server certificate was not checked: the connection is insecure, continuing anyway (use sslcertck or sslfingerprint)", "poll", s.label)
	}
	if s.imap.PreAuth() {
		s.opts.logger().Debug("the server greeted with PREAUTH: already logged in, no credentials sent", "poll", s.label)
		return nil
	}
	caps, err := s.imap.Caps(ctx)
	if err != nil {
		return err
	}
	return s.imapAuthenticate(ctx, caps)
}

// imapStartTLS applies fetchmail's STARTTLS rules (mustSTLS and mayTrySTLS
// in tlspolicy.go, which exempt only SSH that reaches the mail server
// itself); after a PREAUTH greeting, where STARTTLS is not allowed, a
// mandatory TLS is an error telling to add sslproto ”.
func (s *session) imapStartTLS(ctx context.Context) error {
	srv, u := s.job.Server, s.job.User
	sess := s.imap
	must := mustSTLS(u, s.route)
	may := mayTrySTLS(u, s.route)
	if !must && !may {
		return nil
	}
	if sess.PreAuth() {
		if must {
			return &Error{Poll: s.label, Status: StatusSocket, Err: fmt.Errorf("%w: the server greeted with PREAUTH, after which STARTTLS is not possible (add sslproto '' to the rc file to go on without TLS)", errTLSUpgrade)}
		}
		return nil
	}
	caps, err := sess.Caps(ctx)
	if err != nil {
		return err
	}
	if !caps.Has("STARTTLS") {
		if must {
			return &Error{Poll: s.label, Status: StatusSocket, Err: fmt.Errorf("%w: the server does not offer STARTTLS (add sslproto '' to the rc file to allow plain text)", errTLSUpgrade)}
		}
		return nil
	}
	cfg, err := tlsConfig(srv, u)
	if err != nil {
		return &Error{Poll: s.label, Status: StatusSocket, Err: err}
	}
	err = sess.StartTLS(ctx, cfg)
	var refused *imap.Error
	switch {
	case err == nil:
		s.conn = sess.Conn()
		s.opts.logger().Debug("STARTTLS: TLS established", "poll", s.label)
		return nil
	case !must && errors.As(err, &refused):
		s.opts.logger().Warn("the server refused STARTTLS; continuing without TLS", "poll", s.label, "err", err)
		return nil
	}
	return &Error{Poll: s.label, Status: StatusSocket, Err: fmt.Errorf("%w: %s: %w", errTLSUpgrade, cfg.ServerName, err)}
}

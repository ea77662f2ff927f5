package fetch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"

	"github.com/gofetchmail/gofetchmail/pop3"
	"github.com/gofetchmail/gofetchmail/rcparse"
	"github.com/gofetchmail/gofetchmail/tlspolicy"
)

// The TLS of a session: package tlspolicy builds the configuration and
// checks the certificate; this runs the handshakes on the session's
// connection.

// tlsConfig is tlspolicy.Config for the entry's server (via, else the poll
// name).
func tlsConfig(s *rcparse.Server, u *rcparse.User) (*tls.Config, error) {
	return tlspolicy.Config(queryName(s), u)
}

// startTLS upgrades the POP3 session with STLS (RFC 2595 section 4).
func (s *session) startTLS(ctx context.Context, caps pop3.Capabilities) error {
	srv, u := s.job.Server, s.job.User
	if !caps.Has("STLS") {
		return &Error{Poll: s.label, Status: StatusSocket, Err: fmt.Errorf("%w: the server does not offer STLS (add sslproto '' to the rc file to allow plain text)", errTLSUpgrade)}
	}
	cfg, err := tlsConfig(srv, u)
	if err != nil {
		return &Error{Poll: s.label, Status: StatusSocket, Err: err}
	}
	if _, err := s.client.Cmd(ctx, "STLS"); err != nil {
		return &Error{Poll: s.label, Status: StatusSocket, Err: fmt.Errorf("%w: %w", errTLSUpgrade, err)}
	}
	tc := tls.Client(s.client.Conn(), cfg)
	if err := tlspolicy.Handshake(ctx, tc, s.timeout()); err != nil {
		var ce *tlspolicy.CertError
		if errors.As(err, &ce) { // it names the host and says what to do
			return &Error{Poll: s.label, Status: StatusSocket, Err: fmt.Errorf("%w: %w", errTLSUpgrade, err)}
		}
		return &Error{Poll: s.label, Status: StatusSocket, Err: fmt.Errorf("%w: %s: %w", errTLSUpgrade, cfg.ServerName, err)}
	}
	s.client.SetConn(tc)
	s.opts.logger().Debug("STLS: TLS established", "poll", s.label, "version", tls.VersionName(tc.ConnectionState().Version))
	s.debugTLS(tc.ConnectionState())
	return nil
}

// encrypted reports whether the POP3 or IMAP session runs over TLS now.
func (s *session) encrypted() bool {
	if s.imap != nil {
		_, ok := s.imap.Conn().(*tls.Conn)
		return ok
	}
	_, ok := s.client.Conn().(*tls.Conn)
	return ok
}

// errTLSUpgrade is returned when the server cannot do STLS.
var errTLSUpgrade = errors.New("upgrade to TLS failed")

// implicitTLS runs the TLS handshake of the ssl option on a freshly dialled
// conn (POP3S, IMAPS) and returns the TLS connection; on failure conn is
// closed.
func (s *session) implicitTLS(ctx context.Context, conn net.Conn) (net.Conn, error) {
	cfg, err := tlsConfig(s.job.Server, s.job.User)
	if err != nil {
		conn.Close()
		return nil, &Error{Poll: s.label, Status: StatusSocket, Err: err}
	}
	tc := tls.Client(conn, cfg)
	if err := tlspolicy.Handshake(ctx, tc, s.timeout()); err != nil {
		conn.Close()
		return nil, &Error{Poll: s.label, Status: StatusSocket, Err: tlspolicy.HandshakeError(cfg.ServerName, err)}
	}
	s.debugTLS(tc.ConnectionState())
	return tc, nil
}

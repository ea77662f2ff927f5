package fetch

import (
	"context"
	"errors"
	"strings"

	"github.com/gofetchmail/gofetchmail/internal/sasl"
	"github.com/gofetchmail/gofetchmail/pop3"
)

// authenticate logs in to a POP3 server. caps is the CAPA answer (after
// STLS, if that ran). If TLS is not mandatory but the server offers STLS
// and sslproto is not "", STLS is used first (fetchmail's opportunistic
// TLS). The login itself is the plan shared with IMAP (logIn).
func (s *session) authenticate(ctx context.Context, caps pop3.Capabilities) error {
	u := s.job.User
	if !s.encrypted() && mayTrySTLS(u, s.route) && caps.Has("STLS") {
		var refused *pop3.Error
		switch err := s.startTLS(ctx, caps); {
		case errors.As(err, &refused):
			// -ERR to STLS: the session is intact, go on in plain text
			// (the password is then protected by clearOK).
			s.opts.logger().Warn("the server refused STLS; continuing without TLS", "poll", s.label, "err", err)
		case err != nil:
			return err
		default:
			if caps, err = s.client.Capa(ctx); err != nil {
				return err
			}
			s.caps = caps
		}
	}
	if s.encrypted() && !u.SSLCertck && u.SSLFingerprint == nil {
		s.opts.logger().Warn("the server certificate was not checked: the connection is insecure, continuing anyway (use sslcertck or sslfingerprint)", "poll", s.label)
	}
	return s.logIn(ctx, &pop3Login{c: s.client, caps: caps, apopProto: strings.EqualFold(s.job.Server.Protocol, "APOP")})
}

// pop3Login is POP3's side of the login plan.
type pop3Login struct {
	c         *pop3.Client
	caps      pop3.Capabilities
	apopProto bool
}

func (p *pop3Login) announced() bool         { return len(p.caps) > 0 }
func (p *pop3Login) offers(mech string) bool { return containsFold(p.caps["SASL"], mech) }
func (p *pop3Login) mechanisms() []string    { return p.caps["SASL"] }
func (p *pop3Login) apop() bool              { return p.apopProto }
func (p *pop3Login) addSecret(secret string) { p.c.AddSecret(secret) }

// own is USER/PASS if the server offers it or says nothing, and also when
// it offers no SASL PLAIN or LOGIN either (the RFC 1939 way is the last
// resort).
func (p *pop3Login) own() []string {
	if !p.announced() || p.caps.Has("USER") || !(p.offers("PLAIN") || p.offers("LOGIN")) {
		return []string{"USER"}
	}
	return nil
}

func (p *pop3Login) ownLogin(ctx context.Context, method, user, pw string) error {
	if method == "APOP" {
		return p.c.APOP(ctx, user, pw)
	}
	if err := p.c.User(ctx, user); err != nil {
		return err
	}
	return p.c.Pass(ctx, pw)
}

func (p *pop3Login) authenticate(ctx context.Context, c sasl.Client) error { return p.c.Auth(ctx, c) }

// twoStep: AUTH with no initial response waits for the server's "+ ".
func (p *pop3Login) twoStep(ctx context.Context, c sasl.Client) (bool, error) {
	return true, p.c.Auth(ctx, c)
}

// methodRefused: a -ERR with no response code (mechanism broken or
// refused). [AUTH] means the credentials are wrong (RFC 3206); [IN-USE],
// [SYS/*] and I/O errors end the poll.
func (p *pop3Login) methodRefused(err error) bool {
	var pe *pop3.Error
	return errors.As(err, &pe) && pe.Code == ""
}

func (p *pop3Login) answered(err error) bool {
	var pe *pop3.Error
	return errors.As(err, &pe)
}

func (p *pop3Login) noLogin() string { return "the server offers no way to log in with a password" }

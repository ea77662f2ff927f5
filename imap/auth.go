package imap

import (
	"context"

	"github.com/emersion/go-sasl"

	"github.com/gofetchmail/gofetchmail/internal/redact"
	"github.com/gofetchmail/gofetchmail/internal/saslbound"
)

// Login sends LOGIN. The password never reaches the trace.
func (s *Session) Login(ctx context.Context, user, password string) error {
	if err := s.start(); err != nil {
		return wrap("LOGIN", err)
	}
	s.secrets.Secret(password)
	return s.call(ctx, "LOGIN", func() error { return s.client.Login(user, password).Wait() })
}

// AddSecret adds a password or token to what is masked in every later
// server reply (trace and errors). Login and Authenticate add what they
// send; the caller adds the secret behind a SASL client.
func (s *Session) AddSecret(secret string) { s.secrets.Secret(secret) }

// Authenticate runs a SASL exchange (AUTHENTICATE), with the initial
// response on the command line when the server has SASL-IR. The exchange
// is bounded by Options.Timeout as a whole and by saslbound.MaxChallenges
// challenges.
func (s *Session) Authenticate(ctx context.Context, c sasl.Client) error {
	if err := s.start(); err != nil {
		return wrap("AUTHENTICATE", err)
	}
	c = saslbound.Bound(redact.SASL(c, &s.secrets)) // masked in replies; a few challenges at most
	return s.call(ctx, "AUTHENTICATE", func() error { return s.client.Authenticate(c) })
}

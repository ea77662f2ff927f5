package imap

import (
	"context"
	"strings"

	"github.com/gofetchmail/gofetchmail/internal/sasl"
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
// is bounded by Options.Timeout as a whole and by sasl.MaxChallenges
// challenges.
func (s *Session) Authenticate(ctx context.Context, c sasl.Client) error {
	if err := s.start(); err != nil {
		return wrap("AUTHENTICATE", err)
	}
	c = sasl.Guard(c, &s.secrets) // masked in replies; a few challenges at most
	return s.call(ctx, "AUTHENTICATE", func() error { return s.client.Authenticate(c) })
}

// AuthenticateTwoStep runs a SASL exchange with the initial response sent
// only after the server's empty "+ " challenge (RFC 4422 section 5), even
// when the server announces SASL-IR (RFC 4959): the form Microsoft's
// servers ask for with XOAUTH2. imapclient puts the initial response on
// the command line whenever it knows of SASL-IR, so this works only as the
// session's first LOGIN or AUTHENTICATE: ok is false, and nothing is sent,
// once imapclient has taken over.
func (s *Session) AuthenticateTwoStep(ctx context.Context, c sasl.Client) (ok bool, err error) {
	if s.client != nil {
		return false, nil
	}
	s.noIR = true
	return true, s.Authenticate(ctx, c)
}

// handedCaps is the capability list imapclient is told of.
func (s *Session) handedCaps() []string {
	if !s.noIR {
		return s.capList
	}
	var out []string
	for _, c := range s.capList {
		if !strings.EqualFold(c, "SASL-IR") {
			out = append(out, c)
		}
	}
	return out
}

package imap

import (
	"context"

	"github.com/emersion/go-sasl"
)

// Login sends LOGIN. The password never reaches the trace.
func (s *Session) Login(ctx context.Context, user, password string) error {
	if err := s.start(); err != nil {
		return wrap("LOGIN", err)
	}
	return s.call(ctx, "LOGIN", func() error { return s.client.Login(user, password).Wait() })
}

// Authenticate runs a SASL exchange (AUTHENTICATE), with the initial
// response on the command line when the server has SASL-IR.
func (s *Session) Authenticate(ctx context.Context, c sasl.Client) error {
	if err := s.start(); err != nil {
		return wrap("AUTHENTICATE", err)
	}
	return s.call(ctx, "AUTHENTICATE", func() error { return s.client.Authenticate(c) })
}

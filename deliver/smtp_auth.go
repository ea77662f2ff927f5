package deliver

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
	"errors"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// saslClient picks the ESMTP AUTH mechanism the way fetchmail does:
// CRAM-MD5, then PLAIN, then LOGIN, the first the server offers. When it
// offers none of them, PLAIN is tried anyway.
func (s *SMTP) saslClient(c *smtp.Client) sasl.Client {
	user, pass := s.opts.AuthUser, s.opts.AuthPassword
	switch {
	case c.SupportsAuth("CRAM-MD5"):
		return &cramMD5{user: user, pass: pass}
	case c.SupportsAuth("PLAIN"):
		return sasl.NewPlainClient("", user, pass)
	case c.SupportsAuth("LOGIN"):
		return sasl.NewLoginClient(user, pass)
	}
	return sasl.NewPlainClient("", user, pass)
}

// cramMD5 is the client side of SASL CRAM-MD5 (RFC 2195).
type cramMD5 struct {
	user, pass string
	sent       bool
}

func (a *cramMD5) Start() (string, []byte, error) { return "CRAM-MD5", nil, nil }

func (a *cramMD5) Next(challenge []byte) ([]byte, error) {
	if a.sent {
		return nil, errors.New("cram-md5: unexpected second challenge")
	}
	a.sent = true
	m := hmac.New(md5.New, []byte(a.pass))
	m.Write(challenge)
	return []byte(a.user + " " + hex.EncodeToString(m.Sum(nil))), nil
}

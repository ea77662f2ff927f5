package deliver

import (
	"github.com/emersion/go-smtp"

	"github.com/gofetchmail/gofetchmail/internal/sasl"
)

// saslClient picks the ESMTP AUTH mechanism (RFC 4954) the way fetchmail
// does: CRAM-MD5, then PLAIN, then LOGIN, the first the server offers.
// When it offers none of them, PLAIN is tried anyway. The clients are
// package internal/sasl's, as for POP3 and IMAP.
func (s *SMTP) saslClient(c *smtp.Client) sasl.Client {
	for _, m := range []string{"CRAM-MD5", "PLAIN", "LOGIN"} {
		if c.SupportsAuth(m) {
			return sasl.Password(m, s.opts.AuthUser, s.opts.AuthPassword)
		}
	}
	return sasl.Plain(s.opts.AuthUser, s.opts.AuthPassword)
}

package deliver

import (
	"errors"
	"fmt"
	"slices"

	"github.com/emersion/go-smtp"
)

// SMTPError reports a refusal by the SMTP or LMTP server a message was
// forwarded to. fetchmail's rules decide what the engine does with the
// message on the POP3 server:
//
//   - Permanent false (a 4xx reply, or a reply outside 2xx-5xx): the
//     message stays on the server for the next poll.
//   - Permanent true (a 5xx reply): under softbounce (the default) the
//     message stays on the server too; without softbounce it may be deleted.
//   - Spam true (the reply code is in the entry's antispam list): the server
//     refused the message as spam; fetchmail deletes it without a bounce
//     unless softbounce is on.
type SMTPError struct {
	Host      string // the SMTP host (or LMTP socket) that answered
	Stage     string // "MAIL FROM", "RCPT TO", "DATA", "end of data"
	Recipient string // the refused recipient, for RCPT TO and LMTP replies
	Code      int    // the reply code, e.g. 550
	Enhanced  string // the enhanced status code, e.g. "5.1.1", when given
	Message   string // the server's text
	Permanent bool   // a 5xx reply
	Spam      bool   // Code is one of the antispam codes
}

// Error returns "smtp HOST: STAGE <rcpt>: CODE TEXT".
func (e *SMTPError) Error() string {
	s := fmt.Sprintf("smtp %s: %s", e.Host, e.Stage)
	if e.Recipient != "" {
		s += " <" + e.Recipient + ">"
	}
	s += fmt.Sprintf(": %03d", e.Code)
	if e.Enhanced != "" {
		s += " " + e.Enhanced
	}
	if e.Message != "" {
		s += " " + e.Message
	}
	return s
}

// Temporary reports whether the refusal is temporary (not a 5xx reply).
func (e *SMTPError) Temporary() bool { return !e.Permanent }

// smtpError converts an error of go-smtp into an *SMTPError when it is a
// server reply; other errors (I/O, timeouts) are wrapped with the host and
// stage and count as temporary.
func (s *SMTP) smtpError(host, stage, rcpt string, err error) error {
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		return s.secrets.Err(fmt.Errorf("smtp %s: %s: %w", host, stage, err))
	}
	return s.fromReply(host, stage, rcpt, se)
}

// fromReply builds an *SMTPError from one server reply.
func (s *SMTP) fromReply(host, stage, rcpt string, se *smtp.SMTPError) *SMTPError {
	e := &SMTPError{
		Host: host, Stage: stage, Recipient: rcpt,
		Code: se.Code, Message: s.secrets.Scrub(se.Message),
		Permanent: se.Code/100 == 5,
	}
	if c := se.EnhancedCode; c[0] > 0 {
		e.Enhanced = fmt.Sprintf("%d.%d.%d", c[0], c[1], c[2])
	}
	e.Spam = slices.Contains(s.opts.Antispam, se.Code) && (stage == "MAIL FROM" || (s.lmtp && stage == "end of data"))
	return e
}

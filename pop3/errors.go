package pop3

import (
	"errors"
	"os"
	"strings"
)

// Error is a -ERR reply from the server.
type Error struct {
	// Command is the command verb that was refused ("PASS", "RETR"), or
	// "greeting" for a -ERR greeting. It never holds command arguments.
	Command string
	// Code is the RFC 2449 extended response code, upper-cased and without
	// brackets ("AUTH", "IN-USE", "LOGIN-DELAY", "SYS/TEMP", "SYS/PERM"),
	// or "" when the server sent none.
	Code string
	// Text is the rest of the server's reply line.
	Text string
}

// Error formats the reply as `pop3: PASS: -ERR [AUTH] invalid credentials`.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("pop3: ")
	b.WriteString(e.Command)
	b.WriteString(": -ERR")
	if e.Code != "" {
		b.WriteString(" [")
		b.WriteString(e.Code)
		b.WriteString("]")
	}
	if e.Text != "" {
		b.WriteString(" ")
		b.WriteString(e.Text)
	}
	return b.String()
}

// ProtocolError reports a reply that does not follow the POP3 protocol:
// a line that is neither +OK nor -ERR, a malformed list entry, a status
// line longer than 64 KiB. The session is unusable afterwards.
type ProtocolError struct {
	Command string // the command being answered, "" if unknown
	Msg     string
}

// Error formats the violation as `pop3: STAT: protocol error: ...`.
func (e *ProtocolError) Error() string {
	if e.Command == "" {
		return "pop3: protocol error: " + e.Msg
	}
	return "pop3: " + e.Command + ": protocol error: " + e.Msg
}

// ErrBusy is returned by a command issued while a MessageReader from Retr
// or Top is still open; read it to the end or Close it first.
var ErrBusy = errors.New("pop3: a message reader is still open")

// ErrTimeout is the cause (wrapped) when the server did not answer within
// Options.Timeout. It is a net.Error with Timeout() true and matches
// os.ErrDeadlineExceeded with errors.Is.
var ErrTimeout error = timeoutError{}

type timeoutError struct{}

func (timeoutError) Error() string   { return "pop3: timeout waiting for the server" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }
func (timeoutError) Is(target error) bool {
	return target == os.ErrDeadlineExceeded
}

// IsAuthError reports whether err is a server refusal of the credentials:
// an *Error with code AUTH, or a -ERR without code answered to USER, PASS,
// APOP or AUTH. Codes such as IN-USE or SYS/TEMP are not authentication
// failures even when they answer PASS.
func IsAuthError(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	if e.Code == "AUTH" {
		return true
	}
	if e.Code != "" {
		return false
	}
	switch e.Command {
	case "USER", "PASS", "APOP", "AUTH":
		return true
	}
	return false
}

// IsInUse reports whether err says the mailbox is locked by another
// session or logins are too frequent (codes IN-USE and LOGIN-DELAY): a
// temporary condition worth retrying at the next poll.
func IsInUse(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code == "IN-USE" || e.Code == "LOGIN-DELAY"
}

package imap

import (
	"errors"
	"fmt"
	"strings"

	goimap "github.com/emersion/go-imap/v2"
)

// Error is a NO, BAD or BYE answer from the server.
type Error struct {
	// Command is the command verb that was refused ("LOGIN", "SELECT"), or
	// "greeting" for a BYE greeting. It never holds arguments.
	Command string
	// Status is "NO", "BAD" or "BYE".
	Status string
	// Code is the response code without brackets and arguments,
	// upper-cased ("AUTHENTICATIONFAILED", "UNAVAILABLE", "INUSE"), or ""
	// when the server sent none.
	Code string
	// Text is the human-readable rest of the answer.
	Text string
}

// Error formats the answer as `imap: LOGIN: NO [AUTHENTICATIONFAILED] text`.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("imap: ")
	b.WriteString(e.Command)
	b.WriteString(": ")
	b.WriteString(e.Status)
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

// ProtocolError is an answer that is not IMAP at all (a POP3 greeting, a
// garbled line), or a session state the protocol does not allow.
type ProtocolError struct {
	Op  string // what was being done
	Msg string
}

func (e *ProtocolError) Error() string { return "imap: " + e.Op + ": " + e.Msg }

// IsAuthError reports whether err says the credentials were refused: a
// response code AUTHENTICATIONFAILED, AUTHORIZATIONFAILED or EXPIRED, or a
// NO without code answered to LOGIN or AUTHENTICATE.
func IsAuthError(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code {
	case "AUTHENTICATIONFAILED", "AUTHORIZATIONFAILED", "EXPIRED":
		return true
	case "":
		return e.Status == "NO" && (e.Command == "LOGIN" || e.Command == "AUTHENTICATE")
	}
	return false
}

// IsInUse reports whether err says the mailbox is locked by another
// session (INUSE).
func IsInUse(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == "INUSE"
}

// IsUnavailable reports whether err says the server is temporarily unable
// to serve (UNAVAILABLE, or a BYE greeting).
func IsUnavailable(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.Code == "UNAVAILABLE" || (e.Command == "greeting" && e.Status == "BYE"))
}

// wrap turns imapclient's *imap.Error into an *Error naming cmd and keeps
// other errors, wrapped with the command.
func wrap(cmd string, err error) error {
	if err == nil {
		return nil
	}
	var ie *goimap.Error
	if errors.As(err, &ie) {
		return &Error{Command: cmd, Status: string(ie.Type), Code: strings.ToUpper(string(ie.Code)), Text: ie.Text}
	}
	var own *Error
	var pe *ProtocolError
	if errors.As(err, &own) || errors.As(err, &pe) {
		return err
	}
	return fmt.Errorf("imap: %s: %w", cmd, err)
}

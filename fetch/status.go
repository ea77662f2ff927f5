package fetch

import (
	"context"
	"errors"
	"net"
	"os"

	"github.com/gofetchmail/gofetchmail/imap"
	"github.com/gofetchmail/gofetchmail/internal/sasl"
	"github.com/gofetchmail/gofetchmail/pop3"
	"github.com/gofetchmail/gofetchmail/rcparse"
	"github.com/gofetchmail/gofetchmail/transport"
)

// Status is a fetchmail exit status (PS_* in fetchmail.h). The numbers are
// part of the command-line interface: scripts test them.
type Status int

// The fetchmail exit statuses.
const (
	StatusSuccess   Status = 0  // one or more messages retrieved
	StatusNoMail    Status = 1  // no mail waiting
	StatusSocket    Status = 2  // socket, TLS or SSH connection error
	StatusAuthFail  Status = 3  // authentication failed (POP3 or SSH)
	StatusProtocol  Status = 4  // fatal protocol error
	StatusSyntax    Status = 5  // rc or command-line syntax error, failed pre/postconnect
	StatusIOErr     Status = 6  // rc file permissions, idfile I/O
	StatusError     Status = 7  // error reported by the server
	StatusExclude   Status = 8  // another instance is running
	StatusLockBusy  Status = 9  // server mailbox busy ([IN-USE], [LOGIN-DELAY])
	StatusSMTP      Status = 10 // delivery (SMTP, LMTP, local) failed
	StatusDNS       Status = 11 // fatal DNS error
	StatusBSMTP     Status = 12 // BSMTP file could not be opened
	StatusMaxFetch  Status = 13 // poll ended by fetchlimit
	StatusServBusy  Status = 14 // server busy
	StatusUndefined Status = 23 // internal error
)

// Error is a poll failure: what failed, for which poll, and the exit status
// it maps to. It wraps the underlying typed error.
type Error struct {
	Poll   string // "remotename@pollname"
	Server string // host:port actually contacted, when known
	Status Status
	Err    error
}

func (e *Error) Error() string {
	s := e.Poll
	if e.Server != "" {
		s += " (" + e.Server + ")"
	}
	return s + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// deliveryError marks a failure of the local delivery target.
type deliveryError struct{ err error }

func (e *deliveryError) Error() string { return "delivery failed: " + e.err.Error() }
func (e *deliveryError) Unwrap() error { return e.err }

// StatusOf maps an error to the fetchmail exit status it stands for.
// nil maps to StatusSuccess.
func StatusOf(err error) Status {
	if err == nil {
		return StatusSuccess
	}
	var fe *Error
	if errors.As(err, &fe) && fe.Status != 0 {
		return fe.Status
	}
	if errors.Is(err, sasl.ErrTooManyChallenges) {
		return StatusAuthFail // endless SASL challenges: the login failed
	}
	var (
		syn   *rcparse.SyntaxError
		perm  *rcparse.PermissionError
		perr  *pop3.Error
		prot  *pop3.ProtocolError
		sauth *transport.AuthError
		hkey  *transport.HostKeyError
		cmd   *transport.CommandError
		del   *deliveryError
		nerr  net.Error
		ierr  *imap.Error
		iprot *imap.ProtocolError
	)
	var pre *preconnectError
	switch {
	case errors.As(err, &pre):
		return StatusSyntax
	case errors.As(err, &syn):
		return StatusSyntax
	case errors.As(err, &perm):
		return StatusIOErr
	case errors.As(err, &cmd):
		return StatusSyntax
	case errors.As(err, &sauth):
		return StatusAuthFail
	case errors.As(err, &hkey):
		return StatusSocket
	case errors.As(err, &del):
		return StatusSMTP
	case errors.As(err, &perr):
		switch {
		case pop3.IsInUse(perr):
			return StatusLockBusy
		case pop3.IsAuthError(perr):
			return StatusAuthFail
		}
		return StatusError
	case errors.As(err, &prot):
		return StatusProtocol
	case errors.As(err, &ierr):
		switch {
		case imap.IsInUse(ierr):
			return StatusLockBusy
		case imap.IsAuthError(ierr):
			return StatusAuthFail
		case imap.IsUnavailable(ierr):
			return StatusServBusy
		}
		return StatusError
	case errors.As(err, &iprot):
		return StatusProtocol
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		// fetchmail 6.4 ends a poll that timed out waiting for the server
		// with PS_SOCKET ("timeout after N seconds waiting for server").
		return StatusSocket
	case errors.As(err, &nerr):
		return StatusSocket
	}
	return StatusSocket
}

package fetch

import (
	"errors"

	"github.com/gofetchmail/gofetchmail/transport"
)

// preconnectError is a translated "ssh -L" preconnect whose SSH server
// could not be reached. fetchmail runs that ssh as its preconnect, and a
// failed preconnect ends the poll with status 5 (PS_SYNTAX, "pre-connection
// command failed"): the translation keeps that status, so that a script
// keyed on fetchmail's codes behaves the same. A refused host key (2) or
// authentication (3) keep their more precise statuses (docs/options.md).
type preconnectError struct{ err error }

func (e *preconnectError) Error() string {
	return "preconnect (ssh -L, translated) failed: " + e.err.Error()
}

func (e *preconnectError) Unwrap() error { return e.err }

// translatedPreconnectError wraps err as a failed preconnect unless it is
// an authentication or host-key refusal.
func translatedPreconnectError(err error) error {
	var (
		auth *transport.AuthError
		hkey *transport.HostKeyError
	)
	if errors.As(err, &auth) || errors.As(err, &hkey) {
		return err
	}
	return &preconnectError{err}
}

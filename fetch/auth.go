package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/gofetchmail/gofetchmail/secrets"
	"github.com/gofetchmail/gofetchmail/transport"
)

// password returns the secret of the user entry, from the first source
// set: password, passwordfile (first line, re-read every poll), passwordfd
// (first line, read once per run), ~/.netrc, then the terminal prompt.
func (s *session) password() (string, error) {
	u := s.job.User
	if u.Password != nil {
		return *u.Password, nil
	}
	if u.Passwordfile != nil && *u.Passwordfile != "" {
		pw, err := secrets.File(*u.Passwordfile)
		if err != nil {
			return "", &Error{Poll: s.label, Status: StatusAuthFail, Err: err}
		}
		return pw, nil
	}
	if u.Passwordfd != nil {
		pw, err := s.opts.secretStore().FD(*u.Passwordfd)
		if err != nil {
			return "", &Error{Poll: s.label, Status: StatusAuthFail, Err: err}
		}
		return pw, nil
	}
	if pw, ok := s.netrcPassword(); ok {
		return pw, nil
	}
	if s.opts.Password != nil {
		return s.opts.Password(fmt.Sprintf("Enter password for %s: ", s.label))
	}
	return "", &Error{Poll: s.label, Status: StatusAuthFail, Err: errors.New("no password in the rc file and no terminal to ask for one")}
}

func firstLine(data []byte) string {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	return strings.TrimRight(string(line), "\r")
}

// token returns the OAuth2 access token: the output of tokencommand (an
// extension, run through /bin/sh every poll so a helper can refresh it),
// else the password sources, as fetchmail 7 does.
func (s *session) token(ctx context.Context) (string, error) {
	u := s.job.User
	if u.Tokencommand == nil || *u.Tokencommand == "" {
		return s.password()
	}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()
	if err := transport.RunShell(ctx, *u.Tokencommand, &out, os.Stderr); err != nil {
		return "", &Error{Poll: s.label, Status: StatusAuthFail, Err: fmt.Errorf("tokencommand: %w", err)}
	}
	tok := strings.TrimSpace(firstLine(out.Bytes()))
	if tok == "" {
		return "", &Error{Poll: s.label, Status: StatusAuthFail, Err: errors.New("tokencommand printed no token")}
	}
	return tok, nil
}

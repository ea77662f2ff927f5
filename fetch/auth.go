package fetch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

func (s *session) password() (string, error) {
	u := s.job.User
	if u.Password != nil {
		return *u.Password, nil
	}
	if u.Passwordfile != nil && *u.Passwordfile != "" {
		data, err := os.ReadFile(*u.Passwordfile)
		if err != nil {
			return "", &Error{Poll: s.label, Status: StatusAuthFail, Err: fmt.Errorf("passwordfile: %w", err)}
		}
		line, _, _ := strings.Cut(string(data), "\n")
		return strings.TrimRight(line, "\r"), nil
	}
	if s.opts.Password != nil {
		return s.opts.Password(fmt.Sprintf("Enter password for %s: ", s.label))
	}
	return "", &Error{Poll: s.label, Status: StatusAuthFail, Err: errors.New("no password in the rc file and no terminal to ask for one")}
}

func (s *session) authenticate(ctx context.Context) error {
	srv, u := s.job.Server, s.job.User
	switch strings.ToLower(srv.Auth) {
	case "ssh", "implicit", "external":
		return nil // the transport authenticated us (fetchmail's auth ssh)
	}
	pw, err := s.password()
	if err != nil {
		return err
	}
	if strings.ToUpper(srv.Protocol) == "APOP" {
		return s.client.APOP(ctx, u.Remotename, pw)
	}
	if err := s.client.User(ctx, u.Remotename); err != nil {
		return err
	}
	return s.client.Pass(ctx, pw)
}

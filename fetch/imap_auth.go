package fetch

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-sasl"

	"github.com/gofetchmail/gofetchmail/imap"
	"github.com/gofetchmail/gofetchmail/pop3"
)

// imapAuthenticate logs in as the auth setting says, with the same choices
// as POP3: any (CRAM-MD5 if offered, then the cleartext methods), password
// (LOGIN, then SASL PLAIN and LOGIN), cram-md5, external, oauthbearer
// (OAUTHBEARER, or XOAUTH2 when only that is offered), ssh/implicit (none).
func (s *session) imapAuthenticate(ctx context.Context, caps imap.Caps) error {
	srv, u := s.job.Server, s.job.User
	sess := s.imap
	method := strings.ToLower(srv.Auth)
	switch method {
	case "ssh", "implicit":
		return nil // the transport authenticated us (fetchmail's auth ssh)
	case "external":
		if !caps.SASL("EXTERNAL") {
			return s.authErr(errors.New("auth external: the server does not offer SASL EXTERNAL"))
		}
		return sess.Authenticate(ctx, sasl.NewExternalClient(""))
	case "oauthbearer":
		if err := s.clearOK(); err != nil {
			return err
		}
		return s.withToken(ctx, func(tok string) error {
			sess.AddSecret(tok) // masked in what the server echoes
			if caps.SASL("OAUTHBEARER") || !caps.SASL("XOAUTH2") {
				return sess.Authenticate(ctx, pop3.NewOAuthBearerClient(u.Remotename, tok, queryName(srv), s.route.port))
			}
			return sess.Authenticate(ctx, pop3.NewXOAuth2Client(u.Remotename, tok, false))
		})
	case "gssapi", "kerberos", "kerberos_v5", "kerberos_v4", "ntlm", "msn", "otp", "opie":
		return s.authErr(fmt.Errorf("auth %s is not supported by gofetchmail (use any, password, cram-md5, external, ssh or oauthbearer)", method))
	}
	var tries []string
	switch method {
	case "cram-md5", "cram":
		if !caps.SASL("CRAM-MD5") {
			return s.authErr(errors.New("auth cram-md5: the server does not offer SASL CRAM-MD5"))
		}
		tries = []string{"CRAM-MD5"}
	case "password":
		tries = imapCleartext(caps)
	default:
		if caps.SASL("CRAM-MD5") {
			tries = append(tries, "CRAM-MD5")
		}
		tries = append(tries, imapCleartext(caps)...)
	}
	if len(tries) == 0 {
		return s.authErr(errors.New("the server refuses LOGIN here (LOGINDISABLED) and offers no SASL PLAIN or LOGIN: use TLS (ssl, or STARTTLS with sslcertck)"))
	}
	pw, err := s.password()
	if err != nil {
		return err
	}
	for i, m := range tries {
		err = s.imapLogin(ctx, m, pw)
		if err == nil || i == len(tries)-1 || !imapRetryable(err) {
			return err
		}
		s.opts.logger().Info("login failed, trying the next method", "poll", s.label, "method", m, "err", err)
	}
	return err
}

// imapCleartext are the ways to send the password itself: LOGIN unless
// the server says LOGINDISABLED, then SASL PLAIN and LOGIN.
func imapCleartext(caps imap.Caps) []string {
	var out []string
	if !caps.Has("LOGINDISABLED") {
		out = append(out, "IMAP-LOGIN")
	}
	for _, m := range []string{"PLAIN", "LOGIN"} {
		if caps.SASL(m) {
			out = append(out, m)
		}
	}
	return out
}

// imapRetryable: a NO without response code may be the method, not the
// credentials; AUTHENTICATIONFAILED and the like end the login.
func imapRetryable(err error) bool {
	var e *imap.Error
	return errors.As(err, &e) && e.Code == ""
}

func (s *session) imapLogin(ctx context.Context, method, pw string) error {
	u := s.job.User
	if method != "CRAM-MD5" {
		if err := s.clearOK(); err != nil {
			return err
		}
	}
	s.imap.AddSecret(pw)
	if c := passwordSASL(method, u.Remotename, pw); c != nil {
		return s.imap.Authenticate(ctx, c)
	}
	return s.imap.Login(ctx, u.Remotename, pw)
}

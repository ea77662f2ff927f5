package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/emersion/go-sasl"

	"github.com/gofetchmail/gofetchmail/pop3"
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

// authenticate logs in as fetchmail's auth setting says. caps is the CAPA
// answer (after STLS, if that ran). If TLS is not mandatory but the server
// offers STLS and sslproto is not "", STLS is used first (fetchmail's
// opportunistic TLS).
func (s *session) authenticate(ctx context.Context, caps pop3.Capabilities) error {
	srv, u := s.job.Server, s.job.User
	if !s.encrypted() && mayTrySTLS(u, s.route) && caps.Has("STLS") {
		var refused *pop3.Error
		switch err := s.startTLS(ctx, caps); {
		case errors.As(err, &refused):
			// -ERR to STLS: the session is intact, go on in plain text
			// (the password is then protected by clearOK).
			s.opts.logger().Warn("the server refused STLS; continuing without TLS", "poll", s.label, "err", err)
		case err != nil:
			return err
		default:
			if caps, err = s.client.Capa(ctx); err != nil {
				return err
			}
			s.caps = caps
		}
	}
	if s.encrypted() && !u.SSLCertck && u.SSLFingerprint == nil {
		s.opts.logger().Warn("the server certificate was not checked: the connection is insecure, continuing anyway (use sslcertck or sslfingerprint)", "poll", s.label)
	}
	method := strings.ToLower(srv.Auth)
	switch method {
	case "ssh", "implicit":
		return nil // the transport authenticated us (fetchmail's auth ssh)
	case "external":
		if !hasSASL(caps, "EXTERNAL") {
			return s.authErr(errors.New("auth external: the server does not offer SASL EXTERNAL"))
		}
		return s.client.Auth(ctx, sasl.NewExternalClient(""))
	case "oauthbearer":
		return s.oauth(ctx, caps)
	case "gssapi", "kerberos", "kerberos_v5", "kerberos_v4", "ntlm", "msn", "otp", "opie":
		return s.authErr(fmt.Errorf("auth %s is not supported by gofetchmail (use any, password, cram-md5, external, ssh or oauthbearer)", method))
	}
	if strings.EqualFold(srv.Protocol, "APOP") {
		pw, err := s.password()
		if err != nil {
			return err
		}
		return s.client.APOP(ctx, u.Remotename, pw)
	}
	var tries []string
	switch method {
	case "cram-md5", "cram":
		if len(caps) > 0 && !hasSASL(caps, "CRAM-MD5") {
			return s.authErr(errors.New("auth cram-md5: the server does not offer SASL CRAM-MD5"))
		}
		tries = []string{"CRAM-MD5"}
	case "password":
		tries = cleartextMethods(caps)
	default: // any: the strongest the server offers first
		if hasSASL(caps, "CRAM-MD5") {
			tries = append(tries, "CRAM-MD5")
		}
		tries = append(tries, cleartextMethods(caps)...)
	}
	debugf(s.opts, "login methods to try, in order: %s (the server offers SASL %v)", strings.Join(tries, ", "), caps["SASL"])
	pw, err := s.password()
	if err != nil {
		return err
	}
	for i, m := range tries {
		err = s.login(ctx, m, pw)
		if err == nil || i == len(tries)-1 || !retryable(err) {
			return err
		}
		s.opts.logger().Info("login failed, trying the next method", "poll", s.label, "method", m, "err", err)
	}
	return err
}

// cleartextMethods are the ways to send the password itself: USER/PASS if
// the server offers it (or says nothing), then SASL PLAIN and LOGIN.
func cleartextMethods(caps pop3.Capabilities) []string {
	var out []string
	if len(caps) == 0 || caps.Has("USER") {
		out = append(out, "USER")
	}
	for _, m := range []string{"PLAIN", "LOGIN"} {
		if hasSASL(caps, m) {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		out = append(out, "USER") // nothing announced: try the RFC 1939 way
	}
	return out
}

// retryable reports whether another method may succeed after err: a -ERR
// with no response code (mechanism broken or refused). [AUTH] means the
// credentials are wrong; [IN-USE], [SYS/*] and I/O errors end the poll.
func retryable(err error) bool {
	var pe *pop3.Error
	return errors.As(err, &pe) && pe.Code == ""
}

// passwordSASL is the SASL client of a password method (CRAM-MD5, PLAIN,
// LOGIN) for POP3's AUTH and IMAP's AUTHENTICATE alike; nil for the
// protocol's own login (POP3 USER/PASS, IMAP LOGIN).
func passwordSASL(method, user, pw string) sasl.Client {
	switch method {
	case "CRAM-MD5":
		return pop3.NewCramMD5Client(user, pw)
	case "PLAIN":
		return sasl.NewPlainClient("", user, pw)
	case "LOGIN":
		return sasl.NewLoginClient(user, pw)
	}
	return nil
}

// login runs one password method.
func (s *session) login(ctx context.Context, method, pw string) error {
	u := s.job.User
	if method != "CRAM-MD5" {
		if err := s.clearOK(); err != nil {
			return err
		}
	}
	s.client.AddSecret(pw) // masked in every reply, however the server echoes it
	if c := passwordSASL(method, u.Remotename, pw); c != nil {
		return s.client.Auth(ctx, c)
	}
	if err := s.client.User(ctx, u.Remotename); err != nil {
		return err
	}
	return s.client.Pass(ctx, pw)
}

// oauth logs in with an OAuth2 token: OAUTHBEARER if offered (or nothing
// is announced), else XOAUTH2 — in Microsoft's two-step form for Microsoft
// hosts, or when the one-step form is refused without a response code.
func (s *session) oauth(ctx context.Context, caps pop3.Capabilities) error {
	if err := s.clearOK(); err != nil { // a bearer token is a password
		return err
	}
	return s.withToken(ctx, func(tok string) error { return s.oauthLogin(ctx, caps, tok) })
}

// oauthLogin is one login with the access token tok.
func (s *session) oauthLogin(ctx context.Context, caps pop3.Capabilities, tok string) error {
	s.client.AddSecret(tok) // masked in what the server echoes
	user := s.job.User.Remotename
	host := queryName(s.job.Server)
	if hasSASL(caps, "OAUTHBEARER") || !hasSASL(caps, "XOAUTH2") {
		return s.client.Auth(ctx, pop3.NewOAuthBearerClient(user, tok, host, s.route.port))
	}
	if microsoftHost(host) || microsoftHost(s.route.host) || s.oauthProvider() == "microsoft" {
		return s.client.Auth(ctx, pop3.NewXOAuth2Client(user, tok, true))
	}
	err := s.client.Auth(ctx, pop3.NewXOAuth2Client(user, tok, false))
	if retryable(err) {
		s.opts.logger().Info("XOAUTH2 with the token on the AUTH line was refused; trying the two-step form", "poll", s.label)
		return s.client.Auth(ctx, pop3.NewXOAuth2Client(user, tok, true))
	}
	return err
}

func microsoftHost(h string) bool {
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	for _, d := range []string{"office365.com", "outlook.com", "hotmail.com", "live.com"} {
		if h == d || strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	return false
}

func hasSASL(caps pop3.Capabilities, mech string) bool {
	for _, m := range caps["SASL"] {
		if strings.EqualFold(m, mech) {
			return true
		}
	}
	return false
}

func (s *session) authErr(err error) error {
	return &Error{Poll: s.label, Status: StatusAuthFail, Err: err}
}

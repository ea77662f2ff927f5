package fetch

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gofetchmail/gofetchmail/internal/sasl"
)

// loginProto is what the login plan needs of one protocol: POP3 (USER/PASS,
// APOP, AUTH; RFC 1939, RFC 5034) and IMAP (LOGIN, AUTHENTICATE; RFC 3501
// sections 6.2.2-6.2.3) differ only here. Everything else (the order of
// methods, the fallbacks, the cleartext refusal, OAuth2 tokens and their
// refresh) is the plan's, so the two protocols cannot drift apart.
type loginProto interface {
	// announced reports whether the server said what it offers (a POP3
	// server may not answer CAPA; IMAP always has capabilities).
	announced() bool
	// offers reports whether the server announced SASL mechanism mech.
	offers(mech string) bool
	// mechanisms are the SASL mechanisms announced, for the debug log.
	mechanisms() []string
	// own are the protocol's own ways to send the password, in order
	// ("USER" for POP3, "IMAP-LOGIN" for IMAP), before SASL PLAIN and
	// LOGIN; none when the server refuses them (IMAP LOGINDISABLED).
	own() []string
	// apop reports that the login is POP3 APOP (proto apop), whatever the
	// auth setting says.
	apop() bool
	// ownLogin runs one of own's methods, or "APOP".
	ownLogin(ctx context.Context, method, user, pw string) error
	// authenticate runs one SASL exchange (POP3 AUTH, IMAP AUTHENTICATE).
	authenticate(ctx context.Context, c sasl.Client) error
	// twoStep runs XOAUTH2 with the token sent only after the server's
	// empty challenge (Microsoft's form); sent is false when the session
	// can no longer send that form (then nothing was sent).
	twoStep(ctx context.Context, c sasl.Client) (sent bool, err error)
	// addSecret masks secret in every later server reply.
	addSecret(secret string)
	// methodRefused reports that err refused the method rather than the
	// credentials (no response code: POP3 -ERR, IMAP NO), so another
	// method may succeed.
	methodRefused(err error) bool
	// answered reports that err is the server's answer to the login
	// (-ERR, NO): the session is intact for another attempt.
	answered(err error) bool
	// noLogin is why no password method is left (what the server refused).
	noLogin() string
}

// unsupportedAuth reports whether method (lower case) is one of
// fetchmail's auth values gofetchmail does not speak.
func unsupportedAuth(method string) bool {
	switch method {
	case "gssapi", "kerberos", "kerberos_v5", "kerberos_v4", "ntlm", "msn", "otp", "opie":
		return true
	}
	return false
}

// logIn logs in as the rc file's auth setting says, the same way for POP3
// and IMAP:
//   - ssh, implicit: nothing (the transport authenticated us);
//   - external: SASL EXTERNAL, if offered;
//   - oauthbearer: OAUTHBEARER if offered (or nothing is), else XOAUTH2
//     (oauthLogin), with the token refreshed once if the server refuses a
//     stored one (withToken);
//   - proto apop: APOP;
//   - cram-md5: CRAM-MD5, if offered or nothing is announced;
//   - password: the cleartext methods (the protocol's own, then SASL PLAIN
//     and LOGIN);
//   - any: CRAM-MD5 if offered, then the cleartext methods.
//
// A method refused without a response code is followed by the next one;
// a refusal of the credentials ends the login. The password or token is
// never sent in clear over a network (clearOK, the TLS policy).
func (s *session) logIn(ctx context.Context, p loginProto) error {
	u := s.job.User
	method := strings.ToLower(s.job.Server.Auth)
	switch {
	case method == "ssh" || method == "implicit":
		return nil // fetchmail's auth ssh
	case method == "external":
		if !p.offers("EXTERNAL") {
			return s.authErr(errors.New("auth external: the server does not offer SASL EXTERNAL"))
		}
		return p.authenticate(ctx, sasl.External())
	case method == "oauthbearer":
		if err := s.clearOK(); err != nil { // a bearer token is a password
			return err
		}
		return s.withToken(ctx, p, func(tok string) error { return s.oauthLogin(ctx, p, tok) })
	case unsupportedAuth(method):
		return s.authErr(fmt.Errorf("auth %s is not supported by gofetchmail (use any, password, cram-md5, external, ssh or oauthbearer)", method))
	}
	if p.apop() {
		pw, err := s.password()
		if err != nil {
			return err
		}
		p.addSecret(pw)
		return p.ownLogin(ctx, "APOP", u.Remotename, pw)
	}
	tries, err := s.loginMethods(p, method)
	if err != nil {
		return err
	}
	debugf(s.opts, "login methods to try, in order: %s (the server offers SASL %v)", strings.Join(tries, ", "), p.mechanisms())
	pw, err := s.password()
	if err != nil {
		return err
	}
	for i, m := range tries {
		err = s.passwordLogin(ctx, p, m, pw)
		if err == nil || i == len(tries)-1 || !p.methodRefused(err) {
			return err
		}
		s.opts.logger().Info("login failed, trying the next method", "poll", s.label, "method", m, "err", err)
	}
	return err
}

// planLine says what logIn will do with p, in its order, without doing
// it (gofetchmail doctor's login line): the same decisions as logIn, so
// the report cannot drift from the login.
func (s *session) planLine(p loginProto) string {
	method := strings.ToLower(s.job.Server.Auth)
	switch {
	case method == "ssh" || method == "implicit":
		return "no login (auth " + method + ": the transport authenticates)"
	case method == "external":
		return "SASL EXTERNAL"
	case method == "oauthbearer":
		if p.offers("OAUTHBEARER") || !p.offers("XOAUTH2") {
			return "SASL OAUTHBEARER"
		}
		return "SASL XOAUTH2"
	case unsupportedAuth(method):
		return "none (auth " + method + " is not supported by gofetchmail)"
	}
	if p.apop() {
		return "APOP"
	}
	tries, err := s.loginMethods(p, method)
	if err != nil {
		return "none (" + p.noLogin() + ")"
	}
	for i, t := range tries {
		switch t {
		case "IMAP-LOGIN":
			tries[i] = "the LOGIN command"
		case "USER":
			tries[i] = "USER/PASS"
		}
	}
	return strings.Join(tries, ", then ")
}

// loginMethods is the order of the password methods for auth any,
// password and cram-md5.
func (s *session) loginMethods(p loginProto, method string) ([]string, error) {
	var tries []string
	switch method {
	case "cram-md5", "cram":
		if p.announced() && !p.offers("CRAM-MD5") {
			return nil, s.authErr(errors.New("auth cram-md5: the server does not offer SASL CRAM-MD5"))
		}
		return []string{"CRAM-MD5"}, nil
	case "password":
	default: // any: the strongest the server offers first
		if p.offers("CRAM-MD5") {
			tries = append(tries, "CRAM-MD5")
		}
	}
	tries = append(tries, p.own()...)
	for _, m := range []string{"PLAIN", "LOGIN"} {
		if p.offers(m) {
			tries = append(tries, m)
		}
	}
	if len(tries) == 0 {
		return nil, s.authErr(fmt.Errorf("%s: use TLS (ssl, or %s with sslcertck)", p.noLogin(), s.startTLSName()))
	}
	return tries, nil
}

// passwordLogin runs one password method; all but CRAM-MD5 send the
// password itself, so they need clearOK.
func (s *session) passwordLogin(ctx context.Context, p loginProto, method, pw string) error {
	if method != "CRAM-MD5" {
		if err := s.clearOK(); err != nil {
			return err
		}
	}
	p.addSecret(pw) // masked in every reply, however the server echoes it
	user := s.job.User.Remotename
	if c := sasl.Password(method, user, pw); c != nil {
		return p.authenticate(ctx, c)
	}
	return p.ownLogin(ctx, method, user, pw)
}

// oauthLogin is one login with the access token tok: OAUTHBEARER if
// offered (or nothing is announced), else XOAUTH2 — in Microsoft's
// two-step form for Microsoft hosts and oauthprovider microsoft, or when
// the one-step form is refused without a response code.
func (s *session) oauthLogin(ctx context.Context, p loginProto, tok string) error {
	p.addSecret(tok) // masked in what the server echoes
	user := s.job.User.Remotename
	host := queryName(s.job.Server)
	if p.offers("OAUTHBEARER") || !p.offers("XOAUTH2") {
		return p.authenticate(ctx, sasl.OAuthBearer(user, tok, host, s.route.port))
	}
	if microsoftHost(host) || microsoftHost(s.route.host) || s.oauthProvider() == "microsoft" {
		if sent, err := p.twoStep(ctx, sasl.XOAuth2(user, tok, true)); sent {
			return err
		}
	}
	err := p.authenticate(ctx, sasl.XOAuth2(user, tok, false))
	if p.methodRefused(err) {
		s.opts.logger().Info("XOAUTH2 with the token on the command line was refused; trying the two-step form", "poll", s.label)
		if sent, err2 := p.twoStep(ctx, sasl.XOAuth2(user, tok, true)); sent {
			return err2
		}
		s.opts.logger().Info("the two-step form of XOAUTH2 cannot be sent on this session", "poll", s.label)
	}
	return err
}

// withToken runs login with the account's access token. When the program
// manages the grant and the server refuses a stored token (revoked early,
// clock skew), it refreshes once and logs in again on the same session
// (RFC 7628 section 3.2.3: the server's failure leaves it ready for
// another AUTH); a just-issued token is not refreshed a second time.
func (s *session) withToken(ctx context.Context, p loginProto, login func(tok string) error) error {
	if !ManagesOAuth2(s.job.User) {
		tok, err := s.token(ctx)
		if err != nil {
			return err
		}
		return login(tok)
	}
	var src OAuth2Tokens
	var err error
	if s.opts.OAuth2 != nil {
		src, err = s.opts.OAuth2(s.job)
	} else {
		src, err = NewOAuth2Source(s.job, s.opts.Home, "")
	}
	if err != nil {
		return &Error{Poll: s.label, Status: StatusSyntax, Err: err}
	}
	// The token endpoint is bounded by the rc timeout, as the server is.
	tctx, cancel := context.WithTimeout(ctx, s.timeout())
	tok, fresh, err := src.AccessToken(tctx)
	cancel()
	if err != nil {
		return s.oauthErr(err)
	}
	err = login(tok)
	if err == nil || fresh || !p.answered(err) {
		return err
	}
	s.opts.logger().Info("the server refused the stored OAuth2 access token; refreshing it", "poll", s.label)
	tctx, cancel = context.WithTimeout(ctx, s.timeout())
	tok, err = src.Refresh(tctx)
	cancel()
	if err != nil {
		return s.oauthErr(err)
	}
	return login(tok)
}

// startTLSName is the command that upgrades this session to TLS, as the
// user's protocol calls it (POP3 STLS, RFC 2595 section 4; IMAP STARTTLS,
// RFC 3501 section 6.2.1).
func (s *session) startTLSName() string {
	if s.imap != nil {
		return "STARTTLS"
	}
	return "STLS"
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

func containsFold(list []string, s string) bool {
	for _, m := range list {
		if strings.EqualFold(m, s) {
			return true
		}
	}
	return false
}

func (s *session) authErr(err error) error {
	return &Error{Poll: s.label, Status: StatusAuthFail, Err: err}
}

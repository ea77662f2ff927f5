package fetch

import (
	"context"
	"errors"

	"github.com/gofetchmail/gofetchmail/imap"
	"github.com/gofetchmail/gofetchmail/internal/sasl"
)

// imapAuthenticate logs in to an IMAP server with the plan shared with
// POP3 (logIn). caps are the capabilities after STARTTLS, if that ran.
func (s *session) imapAuthenticate(ctx context.Context, caps imap.Caps) error {
	return s.logIn(ctx, &imapLogin{sess: s.imap, caps: caps})
}

// imapLogin is IMAP's side of the login plan.
type imapLogin struct {
	sess *imap.Session
	caps imap.Caps
}

func (p *imapLogin) announced() bool         { return true }
func (p *imapLogin) offers(mech string) bool { return p.caps.SASL(mech) }
func (p *imapLogin) apop() bool              { return false }
func (p *imapLogin) addSecret(secret string) { p.sess.AddSecret(secret) }

func (p *imapLogin) mechanisms() []string {
	var out []string
	for _, m := range []string{"CRAM-MD5", "PLAIN", "LOGIN", "OAUTHBEARER", "XOAUTH2", "EXTERNAL"} {
		if p.caps.SASL(m) {
			out = append(out, m)
		}
	}
	return out
}

// own is LOGIN unless the server says LOGINDISABLED (RFC 3501 section
// 6.2.3).
func (p *imapLogin) own() []string {
	if p.caps.Has("LOGINDISABLED") {
		return nil
	}
	return []string{"IMAP-LOGIN"}
}

func (p *imapLogin) ownLogin(ctx context.Context, method, user, pw string) error {
	return p.sess.Login(ctx, user, pw)
}

func (p *imapLogin) authenticate(ctx context.Context, c sasl.Client) error {
	return p.sess.Authenticate(ctx, c)
}

// twoStep: imapclient sends the initial response after the server's "+ "
// when it does not know of SASL-IR, so the two-step form is AUTHENTICATE
// with SASL-IR hidden from it; that is possible only before the session's
// first login command (imap.Session.AuthenticateTwoStep). c must hold its
// answer to that empty challenge as its initial response.
func (p *imapLogin) twoStep(ctx context.Context, c sasl.Client) (bool, error) {
	return p.sess.AuthenticateTwoStep(ctx, initialAfterChallenge{c})
}

// initialAfterChallenge gives a two-step client's answer to the empty
// challenge as its initial response, which imapclient sends after "+ "
// once it does not know of SASL-IR.
type initialAfterChallenge struct{ sasl.Client }

func (c initialAfterChallenge) Start() (string, []byte, error) {
	mech, ir, err := c.Client.Start()
	if err != nil || ir != nil {
		return mech, ir, err
	}
	ir, err = c.Client.Next([]byte{})
	if ir == nil {
		ir = []byte{}
	}
	return mech, ir, err
}

// methodRefused: a NO without response code may be the method, not the
// credentials; AUTHENTICATIONFAILED and the like (RFC 5530) end the login.
func (p *imapLogin) methodRefused(err error) bool {
	var e *imap.Error
	return errors.As(err, &e) && e.Code == ""
}

func (p *imapLogin) answered(err error) bool {
	var e *imap.Error
	return errors.As(err, &e)
}

func (p *imapLogin) noLogin() string {
	return "the server refuses LOGIN here (LOGINDISABLED) and offers no SASL PLAIN or LOGIN"
}

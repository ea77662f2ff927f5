package imaptest

import (
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-sasl"
)

// oauthSession adds SASL OAUTHBEARER (RFC 7628) and XOAUTH2 to a session,
// with Options.TokenOK judging the access token; a good token logs the
// user in with their password.
type oauthSession struct {
	imapserver.Session
	user, password string
	tokenOK        func(string) bool
}

func (s *oauthSession) AuthenticateMechanisms() []string {
	return []string{"PLAIN", "OAUTHBEARER", "XOAUTH2"}
}

var errBadToken = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed, Text: "invalid token"}

func (s *oauthSession) login(user, token string) error {
	if user != s.user || !s.tokenOK(token) {
		return errBadToken
	}
	return s.Session.Login(s.user, s.password)
}

func (s *oauthSession) Authenticate(mech string) (sasl.Server, error) {
	switch strings.ToUpper(mech) {
	case "PLAIN":
		return sasl.NewPlainServer(func(identity, username, password string) error {
			return s.Session.Login(username, password)
		}), nil
	case "OAUTHBEARER":
		return sasl.NewOAuthBearerServer(func(o sasl.OAuthBearerOptions) *sasl.OAuthBearerError {
			if s.login(o.Username, o.Token) != nil {
				return &sasl.OAuthBearerError{Status: "invalid_token", Schemes: "bearer"}
			}
			return nil
		}), nil
	case "XOAUTH2":
		return &xoauth2Server{s: s}, nil
	}
	return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "SASL mechanism not supported"}
}

// xoauth2Server reads "user=U ^A auth=Bearer T ^A ^A", after an empty
// challenge if there was no initial response.
type xoauth2Server struct {
	s     *oauthSession
	asked bool
}

func (x *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	if resp == nil && !x.asked {
		x.asked = true
		return []byte{}, false, nil
	}
	rest, ok := strings.CutPrefix(string(resp), "user=")
	user, rest, ok2 := strings.Cut(rest, "\x01auth=Bearer ")
	tok, ok3 := strings.CutSuffix(rest, "\x01\x01")
	if !ok || !ok2 || !ok3 {
		return nil, true, errBadToken
	}
	return nil, true, x.s.login(user, tok)
}

package fetch

import (
	"context"
	"errors"
	"strings"

	"github.com/gofetchmail/gofetchmail/auth/oauth"
	"github.com/gofetchmail/gofetchmail/rcparse"
)

// OAuth2Tokens gives the access tokens of an account whose OAuth2 grant
// gofetchmail holds itself (package auth/oauth's *Source).
type OAuth2Tokens interface {
	// AccessToken returns a token to log in with; fresh reports that
	// it was just issued by a refresh.
	AccessToken(ctx context.Context) (tok string, fresh bool, err error)
	// Refresh gets and stores a new access token.
	Refresh(ctx context.Context) (string, error)
}

// ManagesOAuth2 reports whether the program itself obtains the account's
// OAuth2 tokens: oauthprovider or oauthclientid is set (docs/oauth2.md).
// Otherwise auth oauthbearer takes its token from tokencommand or the
// password sources, as before.
func ManagesOAuth2(u *rcparse.User) bool {
	return u.OAuthProvider != nil || u.OAuthClientID != nil
}

// OAuth2Settings are the rc file's OAuth2 options of u.
func OAuth2Settings(u *rcparse.User) oauth.Settings {
	v := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	return oauth.Settings{Provider: v(u.OAuthProvider), AuthURL: v(u.OAuthAuthURL), DeviceURL: v(u.OAuthDeviceURL),
		TokenURL: v(u.OAuthTokenURL), Scope: v(u.OAuthScope), ClientID: v(u.OAuthClientID), ClientSecret: v(u.OAuthClientSecret)}
}

// OAuth2TokenFile is where the account's tokens are kept (auth/oauth's
// DefaultDir and FileName).
func OAuth2TokenFile(j Job, home string) string {
	return oauth.FileName(oauth.DefaultDir(home), j.User.Remotename, j.Server.Pollname)
}

// OAuth2LoginCommand is the command that authorizes the account again;
// rcfile is named with -f when it is not "".
func OAuth2LoginCommand(j Job, rcfile string) string {
	w := []string{"gofetchmail", "oauth2", "login"}
	if rcfile != "" {
		w = append(w, "-f", rcfile)
	}
	w = append(w, j.Server.Pollname, j.User.Remotename)
	for i, s := range w {
		if strings.ContainsFunc(s, func(r rune) bool {
			return !(r == '/' || r == '.' || r == '-' || r == '_' || r == '@' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		}) || s == "" {
			w[i] = "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return strings.Join(w, " ")
}

// NewOAuth2Source is the token source of an account whose tokens the
// program manages.
func NewOAuth2Source(j Job, home, rcfile string) (*oauth.Source, error) {
	conf, err := OAuth2Settings(j.User).Config()
	if err != nil {
		return nil, err
	}
	return &oauth.Source{Config: conf, Path: OAuth2TokenFile(j, home), Account: j.Label(), Command: OAuth2LoginCommand(j, rcfile)}, nil
}

// oauthErr maps a token failure: a refused grant or an endpoint's error
// answer is an authentication failure (3), anything else (the network,
// the token file) is not.
func (s *session) oauthErr(err error) error {
	var re *oauth.ReauthError
	var ee *oauth.EndpointError
	var fe *oauth.FileError
	st := StatusSocket
	switch {
	case errors.As(err, &re), errors.As(err, &ee):
		st = StatusAuthFail
	case errors.As(err, &fe):
		st = StatusIOErr
	}
	return &Error{Poll: s.label, Status: st, Err: err}
}

// oauthProvider is the account's oauthprovider, lower case.
func (s *session) oauthProvider() string {
	if p := s.job.User.OAuthProvider; p != nil {
		return strings.ToLower(*p)
	}
	return ""
}

package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Margin is how long before its expiry an access token is refreshed, so
// a token is never sent that expires during the login (and a daemon
// polling every few minutes refreshes ahead of time, not after a refusal).
const Margin = 5 * time.Minute

// ReauthError means the stored grant is gone (no token file, or the
// refresh was refused with invalid_grant): only a new login helps.
type ReauthError struct {
	Account string // "remotename@pollname"
	Command string // the login command to run
	Reason  string
}

func (e *ReauthError) Error() string {
	return fmt.Sprintf("OAuth2 authorization of %s %s: run '%s'", e.Account, e.Reason, e.Command)
}

// Source gives the access token of one account, refreshing and storing
// it as needed. It is safe for concurrent use.
type Source struct {
	Config  *oauth2.Config
	Path    string // token file
	Account string // "remotename@pollname", for messages
	Command string // the login command to name when the grant is gone
	// HTTPClient, if set, makes the token requests (tests).
	HTTPClient *http.Client
	// Now, if set, replaces time.Now.
	Now func() time.Time

	mu sync.Mutex
}

func (s *Source) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// AccessToken returns a token to log in with: the stored one while it is
// valid for more than Margin, else a refreshed one. fresh reports that it
// was just issued, so a refusal by the mail server is not worth a second
// refresh.
func (s *Source) AccessToken(ctx context.Context) (tok string, fresh bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.load()
	if err != nil {
		return "", false, err
	}
	if st.AccessToken != "" && !st.Expiry.IsZero() && s.now().Add(Margin).Before(st.Expiry) {
		return st.AccessToken, false, nil
	}
	tok, err = s.refresh(ctx, st)
	return tok, true, err
}

// Refresh gets a new access token whatever the stored one's expiry (the
// mail server refused it) and stores it.
func (s *Source) Refresh(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.load()
	if err != nil {
		return "", err
	}
	return s.refresh(ctx, st)
}

func (s *Source) load() (*Stored, error) {
	st, err := Load(s.Path)
	if errors.Is(err, ErrNoToken) {
		return nil, &ReauthError{Account: s.Account, Command: s.Command, Reason: "has no stored token (" + s.Path + ")"}
	}
	return st, err
}

// refresh runs one refresh_token grant (RFC 6749 section 6) and stores
// the answer before returning the access token: a rotated refresh token
// replaces the old one (which the server may already have revoked), an
// unrotated one is kept.
func (s *Source) refresh(ctx context.Context, st *Stored) (string, error) {
	if s.HTTPClient != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, s.HTTPClient)
	}
	old := &oauth2.Token{RefreshToken: st.RefreshToken, Expiry: time.Unix(1, 0)}
	t, err := s.Config.TokenSource(ctx, old).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
			return "", &ReauthError{Account: s.Account, Command: s.Command, Reason: "was revoked or has expired (the token endpoint answered invalid_grant)"}
		}
		return "", fmt.Errorf("refreshing the OAuth2 token of %s: %w", s.Account, Sanitize(err))
	}
	if t.AccessToken == "" {
		return "", fmt.Errorf("refreshing the OAuth2 token of %s: the token endpoint sent no access token", s.Account)
	}
	next := &Stored{RefreshToken: st.RefreshToken, AccessToken: t.AccessToken, TokenType: t.TokenType, Expiry: t.Expiry}
	if t.RefreshToken != "" {
		next.RefreshToken = t.RefreshToken
	}
	if err := Save(s.Path, next); err != nil {
		return "", err
	}
	return t.AccessToken, nil
}

// Sanitize turns an x/oauth2 error into one that says what the endpoint
// answered (status, error code and description) and never the response
// body, which may hold a token.
func Sanitize(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return err
	}
	s := "the token endpoint refused the request"
	if re.Response != nil {
		s += " (HTTP " + re.Response.Status + ")"
	}
	if re.ErrorCode != "" {
		s += ": " + re.ErrorCode
		if re.ErrorDescription != "" {
			s += ": " + printable(re.ErrorDescription, 200)
		}
	}
	return &EndpointError{Code: re.ErrorCode, msg: s}
}

// EndpointError is an error answer of an authorization server.
type EndpointError struct {
	Code string // RFC 6749 section 5.2 / RFC 8628 section 3.5 error code
	msg  string
}

func (e *EndpointError) Error() string { return e.msg }

// printable keeps at most n printable ASCII bytes of s.
func printable(s string, n int) string {
	var b []byte
	for i := 0; i < len(s) && len(b) < n; i++ {
		if s[i] >= 0x20 && s[i] < 0x7f {
			b = append(b, s[i])
		}
	}
	return string(b)
}

package oauth

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
)

// Settings are an account's OAuth2 options from the rc file: a provider
// preset and the explicit values that override it.
type Settings struct {
	Provider     string // "google", "microsoft" or "" (custom endpoints)
	AuthURL      string // authorization endpoint (loopback flow)
	DeviceURL    string // device authorization endpoint (RFC 8628)
	TokenURL     string // token endpoint
	Scope        string // space-separated scopes
	ClientID     string
	ClientSecret string
}

// preset is what a provider name stands for.
type preset struct {
	authURL, deviceURL, tokenURL, scope string
	style                               oauth2.AuthStyle
}

// presets are the endpoints and scopes of the providers users meet most.
// Both take the client credentials in the request body: Google documents
// client_secret as a body parameter for installed applications, and
// Microsoft's public clients have no secret to put in a header. The style
// is always explicit: x/oauth2's AuthStyleAutoDetect sends every token
// request that fails (each authorization_pending of the device flow
// among them) a second time with the credentials moved.
var presets = map[string]preset{
	"google": {
		authURL:   "https://accounts.google.com/o/oauth2/v2/auth",
		deviceURL: "https://oauth2.googleapis.com/device/code",
		tokenURL:  "https://oauth2.googleapis.com/token",
		scope:     "https://mail.google.com/",
		style:     oauth2.AuthStyleInParams,
	},
	"microsoft": {
		authURL:   "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
		deviceURL: "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode",
		tokenURL:  "https://login.microsoftonline.com/common/oauth2/v2.0/token",
		scope:     "offline_access https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/POP.AccessAsUser.All",
		style:     oauth2.AuthStyleInParams,
	},
}

// Providers lists the provider names oauthprovider accepts.
func Providers() []string { return []string{"google", "microsoft"} }

// Config checks s and returns the x/oauth2 configuration it describes.
// With custom endpoints the client authenticates with HTTP Basic when it
// has a secret (RFC 6749 section 2.3.1: servers must support it) and with
// client_id in the body when it has none (a public client).
func (s Settings) Config() (*oauth2.Config, error) {
	p, known := presets[strings.ToLower(s.Provider)]
	if s.Provider != "" && !known {
		return nil, fmt.Errorf("oauthprovider %q is not known (use %s, or give oauthtokenurl and oauthclientid)", s.Provider, strings.Join(Providers(), " or "))
	}
	if !known {
		p.style = oauth2.AuthStyleInParams
		if s.ClientSecret != "" {
			p.style = oauth2.AuthStyleInHeader
		}
	}
	pick := func(v, def string) string {
		if v != "" {
			return v
		}
		return def
	}
	c := &oauth2.Config{
		ClientID:     s.ClientID,
		ClientSecret: s.ClientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:       pick(s.AuthURL, p.authURL),
			DeviceAuthURL: pick(s.DeviceURL, p.deviceURL),
			TokenURL:      pick(s.TokenURL, p.tokenURL),
			AuthStyle:     p.style,
		},
		Scopes: strings.Fields(pick(s.Scope, p.scope)),
	}
	if c.ClientID == "" {
		return nil, errors.New("no oauthclientid: register an application with the provider and put its client ID in the rc file (docs/oauth2.md)")
	}
	if c.Endpoint.TokenURL == "" {
		return nil, errors.New("no oauthtokenurl: give the provider's token endpoint, or oauthprovider")
	}
	for _, u := range []struct{ name, v string }{{"oauthauthurl", c.Endpoint.AuthURL}, {"oauthdeviceurl", c.Endpoint.DeviceAuthURL}, {"oauthtokenurl", c.Endpoint.TokenURL}} {
		if u.v == "" {
			continue
		}
		if err := checkURL(u.v); err != nil {
			return nil, fmt.Errorf("%s %q: %w", u.name, u.v, err)
		}
	}
	return c, nil
}

// checkURL accepts https URLs, and http only to a loopback host (RFC 6749
// section 3.1: the endpoints carry credentials and must use TLS).
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("not an absolute URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		switch h := u.Hostname(); h {
		case "127.0.0.1", "::1", "localhost":
			return nil
		}
		return errors.New("http is allowed only to 127.0.0.1, ::1 or localhost; use https")
	}
	return errors.New("the scheme must be https")
}

package oauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Login is one interactive authorization of an account.
type Login struct {
	Config *oauth2.Config
	Out    io.Writer // where the user is told what to do
	// Browser, if set, is offered the authorization URL of the loopback
	// flow (it may open a web browser); its failure is not an error.
	Browser func(url string) error
	// HTTPClient, if set, makes the requests to the endpoints (tests).
	HTTPClient *http.Client
}

func (l *Login) ctx(ctx context.Context) context.Context {
	if l.HTTPClient != nil {
		return context.WithValue(ctx, oauth2.HTTPClient, l.HTTPClient)
	}
	return ctx
}

// Device runs the device authorization grant (RFC 8628): it asks the
// device endpoint for a code, prints the verification URI and the user
// code, and polls the token endpoint at the interval the server gives,
// waiting on authorization_pending and slowing down by 5 s on slow_down
// (section 3.5), until the user approves, denies (access_denied) or the
// code expires (expired_token).
func (l *Login) Device(ctx context.Context) (*oauth2.Token, error) {
	if l.Config.Endpoint.DeviceAuthURL == "" {
		return nil, errors.New("no device authorization endpoint: give oauthdeviceurl (or oauthprovider)")
	}
	ctx = l.ctx(ctx)
	da, err := l.Config.DeviceAuth(ctx)
	if err != nil {
		return nil, fmt.Errorf("device authorization request: %w", Sanitize(err))
	}
	if da.VerificationURIComplete != "" {
		fmt.Fprintf(l.Out, "Open %s\n(or open %s and enter the code %s)\n", da.VerificationURIComplete, da.VerificationURI, da.UserCode)
	} else {
		fmt.Fprintf(l.Out, "Open %s and enter the code %s\n", da.VerificationURI, da.UserCode)
	}
	fmt.Fprintln(l.Out, "Waiting for the authorization...")
	t, err := l.Config.DeviceAccessToken(ctx, da)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && !da.Expiry.IsZero() && time.Now().After(da.Expiry) {
			return nil, errors.New("the code expired before it was entered (expired_token): run the login again")
		}
		return nil, explain(Sanitize(err))
	}
	return t, nil
}

// explain adds what to do to the device flow's final errors.
func explain(err error) error {
	var ee *EndpointError
	if errors.As(err, &ee) {
		switch ee.Code {
		case "access_denied":
			return fmt.Errorf("%w (the authorization was denied in the browser)", err)
		case "expired_token":
			return fmt.Errorf("%w (the code expired before it was entered: run the login again)", err)
		}
	}
	return err
}

// Loopback runs the authorization code grant with PKCE S256 (RFC 7636)
// and a loopback redirect (RFC 8252 section 7.3): it listens on
// 127.0.0.1 at a free port, prints the authorization URL, accepts the
// one redirect whose state matches, and exchanges its code with the
// code verifier. A redirect with another state ends the login: it did
// not come from this authorization.
func (l *Login) Loopback(ctx context.Context) (*oauth2.Token, error) {
	if l.Config.Endpoint.AuthURL == "" {
		return nil, errors.New("no authorization endpoint: give oauthauthurl, or use --device")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("loopback redirect: %w", err)
	}
	defer ln.Close()
	conf := *l.Config
	conf.RedirectURL = fmt.Sprintf("http://127.0.0.1:%d/", ln.Addr().(*net.TCPAddr).Port)
	state := randomString(24)
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.AccessTypeOffline)
	fmt.Fprintf(l.Out, "Open this URL in a web browser and authorize the access:\n%s\n", authURL)
	if l.Browser != nil {
		_ = l.Browser(authURL)
	}
	fmt.Fprintln(l.Out, "Waiting for the browser to come back to", conf.RedirectURL)

	type result struct {
		code string
		err  error
	}
	done := make(chan result, 1)
	var mu sync.Mutex
	once := false
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path != "/" || once {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		var res result
		switch {
		case subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1:
			res.err = errors.New("the redirect's state does not match this login: refusing its code (run the login again)")
		case q.Get("error") != "":
			res.err = fmt.Errorf("the authorization server answered %s: %s", printable(q.Get("error"), 64), printable(q.Get("error_description"), 200))
		case q.Get("code") == "":
			res.err = errors.New("the redirect carries no code")
		default:
			res.code = q.Get("code")
		}
		once = true
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if res.err != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, "<p>gofetchmail: %s</p>\n", html.EscapeString(res.err.Error()))
		} else {
			fmt.Fprintln(w, "<p>gofetchmail is authorized. You may close this window.</p>")
		}
		if f, ok := w.(http.Flusher); ok {
			f.Flush() // the browser has its page before the login ends
		}
		done <- res
	})}
	go srv.Serve(ln)
	defer func() {
		// Let the answer to the redirect finish (Close would cut it:
		// the browser saw a reset instead of why the login ended).
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if srv.Shutdown(ctx) != nil {
			srv.Close()
		}
	}()
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the browser: %w", ctx.Err())
	}
	if res.err != nil {
		return nil, res.err
	}
	t, err := conf.Exchange(l.ctx(ctx), res.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("exchanging the code: %w", Sanitize(err))
	}
	return t, nil
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// StoreLogin writes a fresh login's token to path. A grant without a
// refresh token cannot serve a daemon and is refused.
func StoreLogin(path string, t *oauth2.Token) error {
	if t.RefreshToken == "" {
		return errors.New("the authorization server issued no refresh token (for Google, the consent screen must ask for offline access; for Microsoft, the scope must include offline_access)")
	}
	return Save(path, &Stored{RefreshToken: t.RefreshToken, AccessToken: t.AccessToken, TokenType: t.TokenType, Expiry: t.Expiry})
}

// Package oauthtest is an in-process OAuth2 authorization server on
// loopback for tests: the device authorization endpoint (RFC 8628), the
// authorization endpoint with PKCE S256 verification (RFC 7636), the
// token endpoint (authorization_code, device_code and refresh_token
// grants, with rotating and revocable refresh tokens and short-lived
// access tokens) and token introspection (RFC 7662) for mail servers.
package oauthtest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Options tune a Server.
type Options struct {
	ClientID     string
	ClientSecret string // if set, the client must send it (Basic or body, as BasicAuth says)
	// BasicAuth makes the token endpoint accept client credentials only
	// in an Authorization: Basic header; otherwise only in the body.
	BasicAuth bool
	User      string        // the account a grant is for (introspection's username)
	AccessTTL time.Duration // life of an access token; 0 means one hour
	NoRotate  bool          // refresh answers keep the refresh token
	Interval  int           // device polling interval in seconds; 0 means 1
	// DenyDevice makes device logins end with access_denied once polled.
	DenyDevice bool
	// SlowDownFirst answers the first poll of a device login slow_down;
	// from then on that login's interval is 5 s longer (RFC 8628 3.5).
	SlowDownFirst bool
	// DeviceTTL is the life of a device code; 0 means 10 minutes.
	DeviceTTL time.Duration
	// Addr, if set, is where to listen instead of a free port of
	// 127.0.0.1 (a mail server configured to introspect there).
	Addr string
}

// Server is a running fake authorization server.
type Server struct {
	URL  string
	opts Options
	hs   *httptest.Server

	mu       sync.Mutex
	access   map[string]time.Time // access token -> expiry
	refresh  map[string]bool      // refresh token -> still valid
	codes    map[string]authCode
	devices  map[string]*device // device_code -> state
	requests map[string]int     // grant_type -> token requests
	// Log lists the token requests: grant type and error answered ("" on success).
	Log     []string
	tamper  func(url.Values)
	pending int // authorization_pending answers before a device approval counts
}

type authCode struct{ challenge, redirect string }

type device struct {
	interval time.Duration
	userCode string
	approved bool
	last     time.Time
	polls    int
	expires  time.Time
}

// NewServer starts a server on a free port of 127.0.0.1 (it panics if it
// cannot, as httptest.NewServer does).
func NewServer(opts Options) *Server {
	opts.Addr = ""
	s, err := Listen(opts)
	if err != nil {
		panic(err)
	}
	return s
}

// Listen starts a server on opts.Addr, or on a free port of 127.0.0.1.
func Listen(opts Options) (*Server, error) {
	if opts.AccessTTL == 0 {
		opts.AccessTTL = time.Hour
	}
	if opts.Interval == 0 {
		opts.Interval = 1
	}
	s := &Server{opts: opts, access: map[string]time.Time{}, refresh: map[string]bool{}, codes: map[string]authCode{}, devices: map[string]*device{}, requests: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/authorize", s.authorize)
	mux.HandleFunc("/device", s.device)
	mux.HandleFunc("/token", s.token)
	mux.HandleFunc("/introspect", s.introspect)
	s.hs = httptest.NewUnstartedServer(mux)
	if opts.Addr != "" {
		ln, err := net.Listen("tcp", opts.Addr)
		if err != nil {
			return nil, fmt.Errorf("oauthtest: %w", err)
		}
		s.hs.Listener.Close()
		s.hs.Listener = ln
	}
	s.hs.Start()
	s.URL = s.hs.URL
	return s, nil
}

// Close stops the server.
func (s *Server) Close() { s.hs.Close() }

// Endpoints of the server.
func (s *Server) AuthURL() string       { return s.URL + "/authorize" }
func (s *Server) DeviceURL() string     { return s.URL + "/device" }
func (s *Server) TokenURL() string      { return s.URL + "/token" }
func (s *Server) IntrospectURL() string { return s.URL + "/introspect" }

// Valid reports whether token is a live access token: what a mail server
// asks by introspection.
func (s *Server) Valid(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.access[token]
	return ok && time.Now().Before(exp)
}

// Invalidate makes every access token issued so far worthless, as a
// provider's revocation of sessions does; refresh tokens stay good.
func (s *Server) Invalidate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.access = map[string]time.Time{}
}

// Revoke makes every refresh token issued so far invalid_grant.
func (s *Server) Revoke() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.refresh {
		s.refresh[k] = false
	}
}

// Requests is how many token requests of a grant type arrived.
func (s *Server) Requests(grant string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[grant]
}

// Approve approves the device login with this user code; it reports
// whether such a login is waiting.
func (s *Server) Approve(userCode string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.devices {
		if d.userCode == userCode {
			d.approved = true
			return true
		}
	}
	return false
}

// SetPending makes the next device login answer n authorization_pending
// polls before an approval counts.
func (s *Server) SetPending(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = n
}

// TamperRedirect lets a test change the redirect of the next
// authorizations (a wrong state, an error).
func (s *Server) TamperRedirect(f func(url.Values)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tamper = f
}

func random() string {
	b := make([]byte, 18)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authorize is the authorization endpoint: it "logs the user in" at once
// and redirects to the loopback redirect URI with a code bound to the
// PKCE challenge.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect := q.Get("redirect_uri")
	ru, err := url.Parse(redirect)
	switch {
	case q.Get("client_id") != s.opts.ClientID:
		http.Error(w, "unknown client", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code":
		http.Error(w, "response_type must be code", http.StatusBadRequest)
		return
	case err != nil || ru.Scheme != "http" || ru.Hostname() != "127.0.0.1":
		http.Error(w, "redirect_uri must be a loopback http URI", http.StatusBadRequest)
		return
	case q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43:
		http.Error(w, "PKCE S256 is required", http.StatusBadRequest)
		return
	}
	code := random()
	s.mu.Lock()
	s.codes[code] = authCode{challenge: q.Get("code_challenge"), redirect: redirect}
	tamper := s.tamper
	s.mu.Unlock()
	v := url.Values{"code": {code}, "state": {q.Get("state")}}
	if tamper != nil {
		tamper(v)
	}
	ru.RawQuery = v.Encode()
	http.Redirect(w, r, ru.String(), http.StatusFound)
}

func (s *Server) device(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil || r.PostForm.Get("client_id") != s.opts.ClientID {
		tokenError(w, "invalid_client")
		return
	}
	dc, uc := random(), strings.ToUpper(random()[:8])
	s.mu.Lock()
	ttl := s.opts.DeviceTTL
	if ttl == 0 {
		ttl = 10 * time.Minute
	}
	s.devices[dc] = &device{userCode: uc, expires: time.Now().Add(ttl), interval: time.Duration(s.opts.Interval) * time.Second}
	s.mu.Unlock()
	writeJSON(w, map[string]any{"device_code": dc, "user_code": uc, "verification_uri": s.URL + "/verify",
		"expires_in": int(ttl / time.Second), "interval": s.opts.Interval})
}

// clientOK checks the client's credentials where the options say they go.
func (s *Server) clientOK(r *http.Request) bool {
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		if !s.opts.BasicAuth || r.PostForm.Get("client_secret") != "" {
			return false
		}
	} else {
		if s.opts.BasicAuth && s.opts.ClientSecret != "" {
			return false
		}
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	return id == s.opts.ClientID && secret == s.opts.ClientSecret
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		tokenError(w, "invalid_request")
		return
	}
	grant := r.PostForm.Get("grant_type")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[grant]++
	fail := func(code string) {
		s.Log = append(s.Log, grant+" "+code)
		tokenError(w, code)
	}
	if !s.clientOK(r) {
		fail("invalid_client")
		return
	}
	switch grant {
	case "authorization_code":
		c, ok := s.codes[r.PostForm.Get("code")]
		delete(s.codes, r.PostForm.Get("code"))
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		switch {
		case !ok || c.redirect != r.PostForm.Get("redirect_uri"):
			fail("invalid_grant")
			return
		case base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge:
			fail("invalid_grant") // RFC 7636 section 4.6
			return
		}
	case "urn:ietf:params:oauth:grant-type:device_code":
		d, ok := s.devices[r.PostForm.Get("device_code")]
		switch {
		case !ok:
			fail("invalid_grant")
			return
		case time.Now().After(d.expires):
			fail("expired_token")
			return
		case !d.last.IsZero() && time.Since(d.last) < d.interval-100*time.Millisecond:
			d.last = time.Now()
			fail("slow_down") // polled too early
			return
		case s.opts.SlowDownFirst && d.last.IsZero():
			d.last = time.Now()
			d.interval += 5 * time.Second
			fail("slow_down")
			return
		}
		d.last = time.Now()
		d.polls++
		if s.opts.DenyDevice {
			delete(s.devices, r.PostForm.Get("device_code"))
			fail("access_denied")
			return
		}
		if !d.approved || d.polls <= s.pending {
			fail("authorization_pending")
			return
		}
		delete(s.devices, r.PostForm.Get("device_code"))
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		if !s.refresh[rt] {
			fail("invalid_grant")
			return
		}
		if !s.opts.NoRotate {
			s.refresh[rt] = false
		}
	default:
		fail("unsupported_grant_type")
		return
	}
	s.Log = append(s.Log, grant)
	at := "at-" + random()
	s.access[at] = time.Now().Add(s.opts.AccessTTL)
	resp := map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": int(s.opts.AccessTTL / time.Second)}
	if grant != "refresh_token" || !s.opts.NoRotate {
		rt := "rt-" + random()
		s.refresh[rt] = true
		resp["refresh_token"] = rt
	}
	writeJSON(w, resp)
}

// introspect answers RFC 7662 token introspection, as dovecot's oauth2
// passdb asks it.
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	tok := ""
	if r.ParseForm() == nil {
		tok = r.Form.Get("token")
	}
	if h := r.Header.Get("Authorization"); tok == "" && strings.HasPrefix(h, "Bearer ") {
		tok = strings.TrimPrefix(h, "Bearer ")
	}
	if !s.Valid(tok) {
		writeJSON(w, map[string]any{"active": false})
		return
	}
	writeJSON(w, map[string]any{"active": true, "username": s.opts.User, "email": s.opts.User})
}

func tokenError(w http.ResponseWriter, code string) {
	w.Header().Set("Content-Type", "application/json")
	status := http.StatusBadRequest
	if code == "invalid_client" {
		status = http.StatusUnauthorized
	}
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":%q}`, code)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

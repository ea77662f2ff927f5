package oauth_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/auth/oauth"
	"github.com/gofetchmail/gofetchmail/auth/oauth/oauthtest"
)

func settings(s *oauthtest.Server, secret string) oauth.Settings {
	return oauth.Settings{AuthURL: s.AuthURL(), DeviceURL: s.DeviceURL(), TokenURL: s.TokenURL(), Scope: "mail", ClientID: "cid", ClientSecret: secret}
}

// browse plays the browser: it follows the authorization URL printed in
// out and the redirect to the loopback listener.
func browse(t *testing.T, out *syncBuf) *http.Response {
	t.Helper()
	re := regexp.MustCompile(`http://127\.0\.0\.1:\d+/authorize\?\S+`)
	var u string
	for i := 0; i < 500 && u == ""; i++ {
		u = re.FindString(out.String())
		time.Sleep(10 * time.Millisecond)
	}
	if u == "" {
		t.Errorf("no authorization URL printed: %q", out.String()) // not Fatal: a goroutine's
		return nil
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Error(err)
		return nil
	}
	resp.Body.Close()
	return resp
}

func TestLoopbackLoginPKCE(t *testing.T) {
	for _, basic := range []bool{false, true} {
		srv := oauthtest.NewServer(oauthtest.Options{ClientID: "cid", ClientSecret: "csecret", BasicAuth: basic})
		defer srv.Close()
		st := settings(srv, "csecret")
		if !basic {
			st.Provider = "google" // the preset's style: credentials in the body
		}
		conf, err := st.Config()
		if err != nil {
			t.Fatal(err)
		}
		out := &syncBuf{}
		l := &oauth.Login{Config: conf, Out: out}
		done := make(chan struct{})
		go func() { defer close(done); browse(t, out) }()
		tok, err := l.Loopback(context.Background())
		<-done
		if err != nil {
			t.Fatalf("basic=%v: %v", basic, err)
		}
		if !srv.Valid(tok.AccessToken) || tok.RefreshToken == "" {
			t.Fatalf("token %+v", tok)
		}
		if n := srv.Requests("authorization_code"); n != 1 {
			t.Errorf("basic=%v: %d code exchanges, want 1 (a retry with the credentials moved?)", basic, n)
		}
	}
}

func TestLoopbackWrongState(t *testing.T) {
	srv := oauthtest.NewServer(oauthtest.Options{ClientID: "cid"})
	defer srv.Close()
	srv.TamperRedirect(func(v url.Values) { v.Set("state", "forged") })
	conf, _ := settings(srv, "").Config()
	out := &syncBuf{}
	go browse(t, out)
	_, err := (&oauth.Login{Config: conf, Out: out}).Loopback(context.Background())
	if err == nil || !strings.Contains(err.Error(), "state does not match") {
		t.Fatalf("err = %v", err)
	}
	if n := srv.Requests("authorization_code"); n != 0 {
		t.Errorf("the code of a forged redirect was exchanged (%d)", n)
	}
}

func TestDeviceLogin(t *testing.T) {
	srv := oauthtest.NewServer(oauthtest.Options{ClientID: "cid"})
	defer srv.Close()
	srv.SetPending(2)
	conf, _ := settings(srv, "").Config()
	out := &syncBuf{}
	go func() {
		re := regexp.MustCompile(`enter the code (\S+)`)
		for i := 0; i < 500; i++ {
			if m := re.FindStringSubmatch(out.String()); m != nil {
				srv.Approve(m[1])
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	tok, err := (&oauth.Login{Config: conf, Out: out}).Device(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !srv.Valid(tok.AccessToken) {
		t.Fatal("access token not valid")
	}
	// Each poll is one request: 2 pending, then the approval; none too
	// early (slow_down) and none repeated at once with the credentials
	// moved (AuthStyleAutoDetect).
	want := []string{"pending", "pending", "ok"}
	var got []string
	for _, l := range srv.Log {
		switch {
		case strings.HasSuffix(l, "authorization_pending"):
			got = append(got, "pending")
		case strings.HasSuffix(l, "device_code"):
			got = append(got, "ok")
		default:
			got = append(got, l)
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("token requests %q, want %q", srv.Log, want)
	}
}

// TestDeviceSlowDown: after slow_down the client waits 5 s longer
// (RFC 8628 section 3.5); a poll before that would be answered slow_down
// again and show in the log.
func TestDeviceSlowDown(t *testing.T) {
	srv := oauthtest.NewServer(oauthtest.Options{ClientID: "cid", SlowDownFirst: true})
	defer srv.Close()
	conf, _ := settings(srv, "").Config()
	out := &syncBuf{}
	go func() {
		re := regexp.MustCompile(`enter the code (\S+)`)
		for i := 0; i < 500; i++ {
			if m := re.FindStringSubmatch(out.String()); m != nil {
				srv.Approve(m[1])
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	if _, err := (&oauth.Login{Config: conf, Out: out}).Device(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(srv.Log) != 2 || !strings.HasSuffix(srv.Log[0], "slow_down") || strings.Contains(srv.Log[1], " ") {
		t.Fatalf("token requests %q, want one slow_down, then the token", srv.Log)
	}
}

// TestDeviceExpired: a code never entered ends the login with one line
// saying so.
func TestDeviceExpired(t *testing.T) {
	srv := oauthtest.NewServer(oauthtest.Options{ClientID: "cid", DeviceTTL: 2 * time.Second})
	defer srv.Close()
	conf, _ := settings(srv, "").Config()
	_, err := (&oauth.Login{Config: conf, Out: &syncBuf{}}).Device(context.Background())
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), "expired") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v", err)
	}
}

func TestDeviceDenied(t *testing.T) {
	srv := oauthtest.NewServer(oauthtest.Options{ClientID: "cid", DenyDevice: true})
	defer srv.Close()
	conf, _ := settings(srv, "").Config()
	_, err := (&oauth.Login{Config: conf, Out: &syncBuf{}}).Device(context.Background())
	if err == nil || !strings.Contains(err.Error(), "access_denied") {
		t.Fatalf("err = %v", err)
	}
}

func login(t *testing.T, srv *oauthtest.Server, path string) {
	t.Helper()
	conf, _ := settings(srv, "").Config()
	out := &syncBuf{}
	go browse(t, out)
	tok, err := (&oauth.Login{Config: conf, Out: out}).Loopback(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := oauth.StoreLogin(path, tok); err != nil {
		t.Fatal(err)
	}
}

func TestSourceCacheRefreshRotateRevoke(t *testing.T) {
	srv := oauthtest.NewServer(oauthtest.Options{ClientID: "cid", AccessTTL: time.Hour})
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "tok", "u@h.json")
	login(t, srv, path)
	conf, _ := settings(srv, "").Config()
	now := time.Now()
	src := &oauth.Source{Config: conf, Path: path, Account: "u@h", Command: "gofetchmail oauth2 login h u", Now: func() time.Time { return now }}
	ctx := context.Background()

	tok, fresh, err := src.AccessToken(ctx)
	if err != nil || fresh || !srv.Valid(tok) {
		t.Fatalf("cached: %v %v %v", fresh, err, srv.Valid(tok))
	}
	if srv.Requests("refresh_token") != 0 {
		t.Fatal("a valid token was refreshed")
	}
	before, _ := oauth.Load(path)

	now = now.Add(time.Hour - oauth.Margin + time.Second) // within the margin
	tok2, fresh, err := src.AccessToken(ctx)
	if err != nil || !fresh || tok2 == tok || !srv.Valid(tok2) {
		t.Fatalf("refresh: %v %v", fresh, err)
	}
	after, _ := oauth.Load(path)
	if after.RefreshToken == before.RefreshToken || after.AccessToken != tok2 {
		t.Fatal("the rotated refresh token or the new access token was not stored")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
	// The server rejects the token: Refresh forces a new one.
	srv.Invalidate()
	tok3, err := src.Refresh(ctx)
	if err != nil || !srv.Valid(tok3) {
		t.Fatal(err)
	}
	srv.Revoke()
	_, err = src.Refresh(ctx)
	var re *oauth.ReauthError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "gofetchmail oauth2 login h u") || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("revoked: %v", err)
	}
}

func TestSourceNoRotationKeepsRefreshToken(t *testing.T) {
	srv := oauthtest.NewServer(oauthtest.Options{ClientID: "cid", NoRotate: true})
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "u@h.json")
	login(t, srv, path)
	before, _ := oauth.Load(path)
	conf, _ := settings(srv, "").Config()
	src := &oauth.Source{Config: conf, Path: path, Account: "u@h"}
	if _, err := src.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	after, _ := oauth.Load(path)
	if after.RefreshToken != before.RefreshToken {
		t.Fatal("refresh token changed although the server did not rotate it")
	}
}

func TestLoadRefusesUnsafeFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := oauth.Save(good, &oauth.Stored{RefreshToken: "rt"}); err != nil {
		t.Fatal(err)
	}
	if _, err := oauth.Load(good); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.json")
	os.Symlink(good, link)
	loose := filepath.Join(dir, "loose.json")
	os.WriteFile(loose, []byte(`{"refresh_token":"rt"}`), 0o644)
	os.Chmod(loose, 0o640)
	cases := map[string]string{link: "symbolic link", loose: "read or written by others"}
	if os.Geteuid() == 0 {
		other := filepath.Join(dir, "other.json")
		os.WriteFile(other, []byte(`{"refresh_token":"rt"}`), 0o600)
		os.Chown(other, 4242, 4242)
		cases[other] = "not owned by"
	}
	for p, want := range cases {
		_, err := oauth.Load(p)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want one line with %q", filepath.Base(p), err, want)
		}
	}
	if _, err := oauth.Load(filepath.Join(dir, "none.json")); !errors.Is(err, oauth.ErrNoToken) {
		t.Errorf("missing: %v", err)
	}
	// Save never writes through a symlink at the final name's temp file
	// and replaces a link at the final name instead of following it.
	if err := oauth.Save(link, &oauth.Stored{RefreshToken: "new"}); err != nil {
		t.Fatal(err)
	}
	if st, _ := oauth.Load(good); st.RefreshToken != "rt" {
		t.Fatal("Save wrote through a symlink")
	}
}

func TestConfigChecks(t *testing.T) {
	for _, c := range []struct {
		s    oauth.Settings
		want string
	}{
		{oauth.Settings{Provider: "yahoo", ClientID: "x"}, "not known"},
		{oauth.Settings{Provider: "google"}, "no oauthclientid"},
		{oauth.Settings{ClientID: "x"}, "no oauthtokenurl"},
		{oauth.Settings{ClientID: "x", TokenURL: "http://example.com/token"}, "https"},
	} {
		if _, err := c.s.Config(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.s, err, c.want)
		}
	}
	c, err := oauth.Settings{Provider: "microsoft", ClientID: "x"}.Config()
	if err != nil || !strings.Contains(strings.Join(c.Scopes, " "), "offline_access") || c.Endpoint.AuthStyle == 0 {
		t.Fatalf("%v %+v", err, c)
	}
}

func TestFileName(t *testing.T) {
	got := oauth.FileName("/d", "../x y", "h/../z")
	if filepath.Dir(got) != "/d" || strings.Contains(filepath.Base(got), "/") || strings.HasPrefix(filepath.Base(got), ".") {
		t.Fatal(got)
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

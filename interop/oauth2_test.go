//go:build interop

package interop

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/auth/oauth"
	"github.com/gofetchmail/gofetchmail/auth/oauth/oauthtest"
)

// TestOAuth2Dovecot runs the OAuth2 lifecycle against the real dovecot,
// whose oauth2 passdb asks the fake authorization server (RFC 7662
// introspection) whether a token is good: over POP3 and IMAP, plain,
// implicit TLS and the in-process SSH channel. Per transport: a poll with
// the stored token, a poll after the provider dropped every access token
// (dovecot refuses it, gofetchmail refreshes once, stores the rotated
// refresh token, logs in), and a poll after the grant was revoked (exit 3
// naming the login command). No token shows in the -v output.
func TestOAuth2Dovecot(t *testing.T) {
	if rig["RIG_OAUTH2_PORT"] == "" {
		t.Skip("the rig was started without RIG_OAUTH2=1 (scripts/test starts it so)")
	}
	cert := rig["RIG_TLS_CERT"]
	for _, tc := range []struct {
		name, poll, proto, port, extra string
	}{
		{"pop3 plain", "127.0.0.1", "pop3", rig["RIG_POP3_PORT"], "sslproto ''"},
		{"pop3 tls", "127.0.0.1", "pop3", rig["RIG_POP3S_PORT"], "ssl sslcertfile " + cert},
		{"imap plain", "127.0.0.1", "imap", rig["RIG_IMAP_PORT"], "sslproto ''"},
		{"imap tls", "127.0.0.1", "imap", rig["RIG_IMAPS_PORT"], "ssl sslcertfile " + cert},
		{"pop3 ssh", "localhost", "pop3", "11110", fmt.Sprintf(`preconnect "ssh -C -f msingh@popserver -L 11110:127.0.0.1:%s sleep 5"`, rig["RIG_POP3_PORT"])},
		{"imap ssh", "localhost", "imap", "11143", fmt.Sprintf(`preconnect "ssh -C -f msingh@popserver -L 11143:127.0.0.1:%s sleep 5"`, rig["RIG_IMAP_PORT"])},
	} {
		t.Run(tc.name, func(t *testing.T) {
			as, err := oauthtest.Listen(oauthtest.Options{ClientID: "cid", User: rig["RIG_USER"], Addr: "127.0.0.1:" + rig["RIG_OAUTH2_PORT"]})
			if err != nil {
				t.Fatal(err)
			}
			defer as.Close()
			h := newHome(t, rig["RIG_CLIENT_KEY"], true)
			rc := h.rc(t, ownPid(h, fmt.Sprintf(`poll %s protocol %s port %s auth oauthbearer
  user msingh there is manish here no rewrite %s
  oauthclientid cid oauthauthurl "%s" oauthtokenurl "%s"
`, tc.poll, tc.proto, tc.port, tc.extra, as.AuthURL(), as.TokenURL())))
			// FETCHMAILHOME is h.dir in the runs' environment.
			tokfile := oauth.FileName(filepath.Join(h.dir, "oauth2"), "msingh", tc.poll)
			loginInProcess(t, as, tokfile)
			first, _ := oauth.Load(tokfile)

			poll := func(n int, dir string) result {
				fill(t, n)
				r := h.runArgs(t, "-f", rc, "--maildir", filepath.Join(h.dir, dir), "-v")
				st, _ := oauth.Load(tokfile)
				for _, s := range []string{first.AccessToken, first.RefreshToken, st.AccessToken, st.RefreshToken} {
					if strings.Contains(r.stdout+r.stderr, s) {
						t.Errorf("a token is in the output:\n%s", r)
					}
				}
				return r
			}
			r := poll(2, "M1")
			expectExit(t, r, 0)
			verify(t, filepath.Join(h.dir, "M1"), 2)
			serverHolds(t, 0)
			if n := as.Requests("refresh_token"); n != 0 {
				t.Errorf("%d refreshes with a valid stored token", n)
			}

			// dovecot makes the second login of the session wait (its auth
			// penalty after a failure, about 5 s).
			as.Invalidate()
			r = poll(3, "M2")
			expectExit(t, r, 0)
			verify(t, filepath.Join(h.dir, "M2"), 3)
			serverHolds(t, 0)
			if n := as.Requests("refresh_token"); n != 1 || !strings.Contains(r.stdout+r.stderr, "refused the stored OAuth2 access token") {
				t.Errorf("%d refreshes after the server refused the token, want 1:\n%s", n, r)
			}
			if st, _ := oauth.Load(tokfile); st.RefreshToken == first.RefreshToken {
				t.Error("the rotated refresh token was not stored")
			}

			as.Invalidate()
			as.Revoke()
			r = poll(1, "M3")
			expectExit(t, r, 3)
			if want := "run 'gofetchmail oauth2 login -f " + rc + " " + tc.poll + " msingh'"; !strings.Contains(r.stdout+r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r)
			}
			serverHolds(t, 1)
		})
	}
}

// loginInProcess authorizes the account against as with the loopback
// flow, this test playing the browser, and stores the tokens in path.
func loginInProcess(t *testing.T, as *oauthtest.Server, path string) {
	t.Helper()
	conf, err := oauth.Settings{AuthURL: as.AuthURL(), TokenURL: as.TokenURL(), ClientID: "cid"}.Config()
	if err != nil {
		t.Fatal(err)
	}
	l := &oauth.Login{Config: conf, Out: io.Discard, Browser: func(u string) error {
		go func() {
			if resp, err := http.Get(u); err == nil {
				resp.Body.Close()
			}
		}()
		return nil
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := l.Loopback(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := oauth.StoreLogin(path, tok); err != nil {
		t.Fatal(err)
	}
}

// TestTokenNeverShown is TestPasswordNeverShown for OAuth2: a poll that
// refreshes a refused token at -v -v with a log file shows neither the
// refused nor the new access token nor a refresh token, in the output,
// the log file or any file left in the home but the token file itself.
func TestTokenNeverShown(t *testing.T) {
	if rig["RIG_OAUTH2_PORT"] == "" {
		t.Skip("the rig was started without RIG_OAUTH2=1 (scripts/test starts it so)")
	}
	for _, proto := range []string{"pop3", "imap"} {
		t.Run(proto, func(t *testing.T) {
			as, err := oauthtest.Listen(oauthtest.Options{ClientID: "cid", User: rig["RIG_USER"], Addr: "127.0.0.1:" + rig["RIG_OAUTH2_PORT"]})
			if err != nil {
				t.Fatal(err)
			}
			defer as.Close()
			port := map[string]string{"pop3": rig["RIG_POP3_PORT"], "imap": rig["RIG_IMAP_PORT"]}[proto]
			h := newHome(t, rig["RIG_CLIENT_KEY"], true)
			rc := h.rc(t, ownPid(h, fmt.Sprintf(`poll 127.0.0.1 protocol %s port %s timeout 30 auth oauthbearer
  user msingh there is manish here no rewrite sslproto ''
  oauthclientid cid oauthauthurl "%s" oauthtokenurl "%s"
`, proto, port, as.AuthURL(), as.TokenURL())))
			tokfile := oauth.FileName(filepath.Join(h.dir, "oauth2"), "msingh", "127.0.0.1")
			loginInProcess(t, as, tokfile)
			before, _ := oauth.Load(tokfile)
			as.Invalidate()
			fill(t, 2)
			logfile := filepath.Join(h.dir, "gofetchmail.log")
			r := h.runArgs(t, "-v", "-v", "-f", rc, "--maildir", h.maildir(), "-L", logfile)
			expectExit(t, r, 0)
			after, _ := oauth.Load(tokfile)
			secrets := []string{before.AccessToken, before.RefreshToken, after.AccessToken, after.RefreshToken}
			trace := r.stdout + r.stderr + readLog(logfile)
			if !strings.Contains(trace, "refused the stored OAuth2 access token") || !strings.Contains(strings.ToUpper(trace), strings.ToUpper(proto)+"> ") {
				t.Fatalf("no refresh or no protocol trace to check:\n%s", trace)
			}
			for _, s := range secrets {
				if strings.Contains(trace, s) {
					t.Errorf("a token appears in the output or the log:\n%s", trace)
				}
			}
			filepath.WalkDir(h.dir, func(path string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() || path == rc || path == tokfile {
					return nil
				}
				data, err := os.ReadFile(path)
				for _, s := range secrets {
					if err == nil && strings.Contains(string(data), s) {
						t.Errorf("a token appears in %s", path)
					}
				}
				return nil
			})
			serverHolds(t, 0)
		})
	}
}

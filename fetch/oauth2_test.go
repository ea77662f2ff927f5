package fetch

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/auth/oauth"
	"github.com/gofetchmail/gofetchmail/auth/oauth/oauthtest"
	"github.com/gofetchmail/gofetchmail/imap/imaptest"
	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
	"github.com/gofetchmail/gofetchmail/transport/sshtest"
	"golang.org/x/crypto/ssh"
)

// oauthRC is the user options of an account whose OAuth2 grant the
// program holds, against the fake authorization server.
func oauthRC(as *oauthtest.Server) string {
	return `oauthclientid cid oauthauthurl "` + as.AuthURL() + `" oauthtokenurl "` + as.TokenURL() + `"`
}

// oauthLogin authorizes the job's account against as (the loopback flow,
// with this test as the browser) and stores its tokens under home.
func oauthLogin(t *testing.T, as *oauthtest.Server, j Job, home string) {
	t.Helper()
	conf, err := OAuth2Settings(j.User).Config()
	if err != nil {
		t.Fatal(err)
	}
	l := &oauth.Login{Config: conf, Out: &strings.Builder{}, Browser: func(u string) error {
		go func() {
			if resp, err := http.Get(u); err == nil {
				resp.Body.Close()
			}
		}()
		return nil
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tok, err := l.Loopback(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := oauth.StoreLogin(OAuth2TokenFile(j, home), tok); err != nil {
		t.Fatal(err)
	}
}

// storedTokens are the tokens in the account's file, for the checks that
// none of them was logged.
func storedTokens(t *testing.T, j Job, home string) []string {
	t.Helper()
	st, err := oauth.Load(OAuth2TokenFile(j, home))
	if err != nil {
		t.Fatal(err)
	}
	return []string{st.RefreshToken, st.AccessToken}
}

// oauthCase is one step of an OAuth2 account's life, checked over POP3
// and IMAP alike.
type oauthCase struct {
	name      string
	ttl       time.Duration           // access token life
	before    func(*oauthtest.Server) // after the login, before the poll
	noLogin   bool
	want      Status
	refreshes int    // refresh_token grants the poll made
	logHas    string // a line the log (or the error) must hold
}

var oauthCases = []oauthCase{
	{name: "cached token", ttl: time.Hour, want: StatusSuccess},
	{name: "expired token refreshed", ttl: time.Minute, want: StatusSuccess, refreshes: 1},
	{name: "rejected token refreshed", ttl: time.Hour, before: func(s *oauthtest.Server) { s.Invalidate() }, want: StatusSuccess, refreshes: 1, logHas: "refused the stored OAuth2 access token"},
	{name: "revoked grant", ttl: time.Hour, before: func(s *oauthtest.Server) { s.Invalidate(); s.Revoke() }, want: StatusAuthFail, refreshes: 1, logHas: "invalid_grant): run 'gofetchmail oauth2 login 127.0.0.1 msingh'"},
	{name: "expired and revoked", ttl: time.Minute, before: func(s *oauthtest.Server) { s.Revoke() }, want: StatusAuthFail, refreshes: 1, logHas: "run 'gofetchmail oauth2 login"},
	{name: "never logged in", ttl: time.Hour, noLogin: true, want: StatusAuthFail, logHas: "has no stored token"},
}

// checkOAuthPoll checks one case's outcome; text is the log and error.
func checkOAuthPoll(t *testing.T, c oauthCase, as *oauthtest.Server, res Result, text string, secrets []string) {
	t.Helper()
	if res.Status != c.want {
		t.Fatalf("status %d, want %d: %v\n%s", res.Status, c.want, res.Err, text)
	}
	if n := as.Requests("refresh_token"); n != c.refreshes {
		t.Errorf("%d refreshes, want %d", n, c.refreshes)
	}
	if c.logHas != "" && !strings.Contains(text, c.logHas) {
		t.Errorf("log lacks %q:\n%s", c.logHas, text)
	}
	if c.logHas == "" && strings.Contains(text, "refused the stored OAuth2 access token") {
		t.Errorf("a token about to expire was sent instead of refreshed first:\n%s", text)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("a token appears in the log:\n%s", text)
		}
	}
}

func TestOAuth2PollPOP3(t *testing.T) {
	t.Setenv("FETCHMAILHOME", "")
	for _, mech := range []string{"OAUTHBEARER", "XOAUTH2"} {
		for _, c := range oauthCases {
			t.Run(mech+" "+c.name, func(t *testing.T) {
				as := oauthtest.NewServer(oauthtest.Options{ClientID: "cid", AccessTTL: c.ttl})
				defer as.Close()
				e := newTestEnv(t, testMessages(2), &pop3test.ServerOptions{SASL: []string{mech}, TokenOK: as.Valid})
				src := strings.Replace(pollRC(e.srv.Addr, plain+" "+oauthRC(as)), "timeout 5", "timeout 5 auth oauthbearer", 1)
				src = strings.Replace(src, "password foobar", "", 1)
				e.rejob(t, src)
				e.opts.Home = t.TempDir()
				var secrets []string
				if !c.noLogin {
					oauthLogin(t, as, e.job, e.opts.Home)
					secrets = storedTokens(t, e.job, e.opts.Home)
				}
				if c.before != nil {
					c.before(as)
				}
				res := e.poll(t)
				text := e.log.String()
				if res.Err != nil {
					text += "\n" + res.Err.Error()
				}
				if !c.noLogin {
					secrets = append(secrets, storedTokens(t, e.job, e.opts.Home)...)
				}
				checkOAuthPoll(t, c, as, res, text, secrets)
				if left := len(e.mbox.Messages()); (c.want == StatusSuccess) != (left == 0) {
					t.Errorf("%d messages left on the server", left)
				}
			})
		}
	}
}

func TestOAuth2PollIMAP(t *testing.T) {
	t.Setenv("FETCHMAILHOME", "")
	for _, c := range oauthCases {
		t.Run(c.name, func(t *testing.T) {
			as := oauthtest.NewServer(oauthtest.Options{ClientID: "cid", AccessTTL: c.ttl})
			defer as.Close()
			e := newIMAPEnv(t, &imaptest.Options{TokenOK: as.Valid}, "")
			e.rejob(t, "imap auth oauthbearer", oauthRC(as))
			e.opts.Home = t.TempDir()
			e.add(t, "INBOX", "one")
			var secrets []string
			if !c.noLogin {
				oauthLogin(t, as, e.job, e.opts.Home)
				secrets = storedTokens(t, e.job, e.opts.Home)
			}
			if c.before != nil {
				c.before(as)
			}
			res := e.poll(t)
			text := e.log.String()
			if res.Err != nil {
				text += "\n" + res.Err.Error()
			}
			if !c.noLogin {
				secrets = append(secrets, storedTokens(t, e.job, e.opts.Home)...)
			}
			checkOAuthPoll(t, c, as, res, text, secrets)
			if got := e.delivered(t); (c.want == StatusSuccess) != (len(got) == 1) {
				t.Errorf("delivered %d", len(got))
			}
		})
	}
}

// TestOAuth2TokenFileRefused: a token file others may read ends the poll
// with one line naming it, before any login.
func TestOAuth2TokenFileRefused(t *testing.T) {
	t.Setenv("FETCHMAILHOME", "")
	as := oauthtest.NewServer(oauthtest.Options{ClientID: "cid"})
	defer as.Close()
	e := newTestEnv(t, testMessages(1), &pop3test.ServerOptions{SASL: []string{"OAUTHBEARER"}, TokenOK: as.Valid})
	e.rejob(t, strings.Replace(pollRC(e.srv.Addr, plain+" "+oauthRC(as)), "timeout 5", "timeout 5 auth oauthbearer", 1))
	e.opts.Home = t.TempDir()
	oauthLogin(t, as, e.job, e.opts.Home)
	os.Chmod(OAuth2TokenFile(e.job, e.opts.Home), 0o644)
	res := e.poll(t)
	if res.Status != StatusIOErr || !strings.Contains(res.Err.Error(), "may be read or written by others") {
		t.Fatalf("status %d: %v", res.Status, res.Err)
	}
	if strings.Contains(e.log.String(), "AUTH OAUTHBEARER") {
		t.Error("logged in with a token from an unsafe file")
	}
}

// TestOAuth2Transports: a rejected token is refreshed and the poll goes
// on over implicit TLS and over the in-process SSH channel (where no
// sslproto ” opt-out is needed to send the token).
func TestOAuth2Transports(t *testing.T) {
	t.Setenv("FETCHMAILHOME", "")
	t.Setenv("SSH_AUTH_SOCK", "")
	cert := newTestCert(t)
	for _, via := range []string{"tls", "ssh"} {
		t.Run(via, func(t *testing.T) {
			as := oauthtest.NewServer(oauthtest.Options{ClientID: "cid"})
			defer as.Close()
			e := newTestEnv(t, testMessages(2), &pop3test.ServerOptions{SASL: []string{"OAUTHBEARER"}, TokenOK: as.Valid})
			e.opts.Home = t.TempDir()
			var src string
			switch via {
			case "tls":
				src = pollRC(implicitTLS(t, e, cert), "ssl sslcertfile "+cert.file+" "+oauthRC(as))
			case "ssh":
				signer, keyPEM, err := sshtest.GenerateKey()
				if err != nil {
					t.Fatal(err)
				}
				srv, err := sshtest.NewServer(sshtest.ServerOptions{AuthorizedKeys: map[string][]ssh.PublicKey{"alice": {signer.PublicKey()}}})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { srv.Close() })
				sshDir := filepath.Join(e.opts.Home, ".ssh")
				os.MkdirAll(sshDir, 0o700)
				key := filepath.Join(sshDir, "id_test")
				os.WriteFile(key, keyPEM, 0o600)
				os.WriteFile(filepath.Join(sshDir, "known_hosts"), []byte(srv.KnownHostsLine()+"\n"), 0o600)
				host, port, _ := strings.Cut(e.srv.Addr, ":")
				src = fmt.Sprintf("poll %s proto pop3 port %s timeout 5 plugin %q\n  user msingh there is manish here %s\n",
					host, port, fmt.Sprintf("ssh -p %d -i %s alice@127.0.0.1 -W %%h:%%p", srv.Port(), key), oauthRC(as))
			}
			src = strings.Replace(src, "timeout 5", "timeout 5 auth oauthbearer", 1)
			src = strings.Replace(src, "password foobar", "", 1)
			e.rejob(t, src)
			oauthLogin(t, as, e.job, e.opts.Home)
			as.Invalidate()
			res := e.poll(t)
			if res.Status != StatusSuccess || res.Delivered != 2 {
				t.Fatalf("result %+v\n%s", res, e.log)
			}
			if as.Requests("refresh_token") != 1 {
				t.Errorf("%d refreshes", as.Requests("refresh_token"))
			}
		})
	}
}

// TestOAuth2MicrosoftTwoStep: oauthprovider microsoft sends XOAUTH2 in
// the two-step form Microsoft's POP3 servers require, whatever the host
// is called, without first trying the form they refuse.
func TestOAuth2MicrosoftTwoStep(t *testing.T) {
	t.Setenv("FETCHMAILHOME", "")
	as := oauthtest.NewServer(oauthtest.Options{ClientID: "cid"})
	defer as.Close()
	e := newTestEnv(t, testMessages(1), &pop3test.ServerOptions{SASL: []string{"XOAUTH2"}, XOAuth2TwoStep: true, TokenOK: as.Valid})
	src := strings.Replace(pollRC(e.srv.Addr, plain+" oauthprovider microsoft "+oauthRC(as)), "timeout 5", "timeout 5 auth oauthbearer", 1)
	e.rejob(t, strings.Replace(src, "password foobar", "", 1))
	e.opts.Home = t.TempDir()
	oauthLogin(t, as, e.job, e.opts.Home)
	res := e.poll(t)
	if res.Status != StatusSuccess {
		t.Fatalf("result %+v\n%s", res, e.log)
	}
	if strings.Contains(e.log.String(), "trying the two-step form") {
		t.Errorf("the one-step form was tried first:\n%s", e.log)
	}
}

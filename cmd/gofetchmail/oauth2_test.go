package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/auth/oauth"
	"github.com/gofetchmail/gofetchmail/auth/oauth/oauthtest"
	"github.com/gofetchmail/gofetchmail/imap/imaptest"
	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
)

// The OAuth2 lifecycle run by the real binary: login (loopback and
// device), polls over POP3 and IMAP, refresh, rotation, revocation.

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// gofetchmailBinary builds this command once per test run.
func gofetchmailBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gofetchmail-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "gofetchmail")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

type oauthRig struct {
	as      *oauthtest.Server
	home    string
	rc      string
	maildir string
	bin     string
}

// newOAuthRig writes an rc file with one account per mail server given
// (name -> "proto port"), all authorized against one fake authorization
// server that wants the client secret in a Basic header.
func newOAuthRig(t *testing.T, entries string, accessTTL time.Duration) *oauthRig {
	t.Helper()
	r := &oauthRig{bin: gofetchmailBinary(t), home: t.TempDir()}
	r.as = oauthtest.NewServer(oauthtest.Options{ClientID: "cid", ClientSecret: "TopClientSecret", BasicAuth: true, User: "msingh", AccessTTL: accessTTL})
	t.Cleanup(r.as.Close)
	r.maildir = filepath.Join(r.home, "Maildir")
	r.rc = filepath.Join(r.home, "rc")
	opts := fmt.Sprintf(`oauthclientid cid oauthclientsecret "TopClientSecret" oauthauthurl "%s" oauthdeviceurl "%s" oauthtokenurl "%s" sslproto '' maildir "%s"`,
		r.as.AuthURL(), r.as.DeviceURL(), r.as.TokenURL(), r.maildir)
	// Its own pid file: as root the default is /var/run/fetchmail.pid,
	// which any other run on the machine may hold.
	rc := fmt.Sprintf("set idfile \"%s/ids\"\nset pidfile \"%s/run.pid\"\n", r.home, r.home) + strings.ReplaceAll(entries, "OAUTH", opts)
	if err := os.WriteFile(r.rc, []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *oauthRig) cmd(ctx context.Context, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, r.bin, args...)
	c.Env = []string{"HOME=" + r.home, "PATH=" + os.Getenv("PATH"), "LOGNAME=" + os.Getenv("LOGNAME"), "USER=" + os.Getenv("USER")}
	return c
}

// run runs the binary to its end.
func (r *oauthRig) run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := r.cmd(ctx, args...)
	out, _ := c.CombinedOutput()
	t.Logf("gofetchmail %s -> %d\n%s", strings.Join(args, " "), c.ProcessState.ExitCode(), out)
	return c.ProcessState.ExitCode(), string(out)
}

// login runs "oauth2 login" and plays the user: act gets each line the
// binary prints.
func (r *oauthRig) login(t *testing.T, act func(line string), args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := r.cmd(ctx, append([]string{"oauth2", "login", "--no-browser", "-f", r.rc}, args...)...)
	var errb bytes.Buffer
	c.Stderr = &errb
	out, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		all.WriteString(sc.Text() + "\n")
		act(sc.Text())
	}
	io.Copy(io.Discard, out)
	c.Wait()
	all.WriteString(errb.String())
	t.Logf("oauth2 login %s -> %d\n%s", strings.Join(args, " "), c.ProcessState.ExitCode(), all.String())
	return c.ProcessState.ExitCode(), all.String()
}

// browser follows an authorization URL printed on a line.
func browser(line string) {
	if u := regexp.MustCompile(`^http://127\.0\.0\.1:\d+/authorize\?\S+$`).FindString(line); u != "" {
		go func() {
			if resp, err := http.Get(u); err == nil {
				resp.Body.Close()
			}
		}()
	}
}

func (r *oauthRig) tokenFile(user, server string) string {
	return oauth.FileName(filepath.Join(r.home, ".gofetchmail-oauth2"), user, server)
}

func (r *oauthRig) secrets(t *testing.T, paths ...string) []string {
	out := []string{"TopClientSecret"}
	for _, p := range paths {
		if st, err := oauth.Load(p); err == nil {
			out = append(out, st.RefreshToken, st.AccessToken)
		}
	}
	return out
}

func noSecrets(t *testing.T, what, text string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s shows a secret (%.6s...):\n%s", what, s, text)
		}
	}
}

func TestOAuth2LifecycleBinary(t *testing.T) {
	t.Setenv("FETCHMAILHOME", "")
	mbox := pop3test.NewMailbox("msingh", "foobar", pop3test.Message{Data: []byte("Subject: one\n\nbody\n")})
	var as *oauthtest.Server
	pop, err := pop3test.NewServer(mbox, &pop3test.ServerOptions{SASL: []string{"OAUTHBEARER", "XOAUTH2"}, TokenOK: func(tok string) bool { return as.Valid(tok) }})
	if err != nil {
		t.Fatal(err)
	}
	defer pop.Close()
	im, err := imaptest.NewServer("msingh", "foobar", &imaptest.Options{TokenOK: func(tok string) bool { return as.Valid(tok) }})
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	_, pport, _ := strings.Cut(pop.Addr, ":")
	_, iport, _ := strings.Cut(im.Addr, ":")
	envFile := filepath.Join(t.TempDir(), "env")
	r := newOAuthRig(t, fmt.Sprintf(`poll 127.0.0.1 proto pop3 port %s auth oauthbearer
  user msingh there is tester here OAUTH preconnect "env > %s"
poll localhost proto imap port %s auth oauthbearer
  user msingh there is tester here OAUTH
`, pport, envFile, iport), time.Hour)
	as = r.as
	popTok, imTok := r.tokenFile("msingh", "127.0.0.1"), r.tokenFile("msingh", "localhost")

	// Two accounts match: the login must be told which.
	if code, out := r.login(t, browser); code != 5 || !strings.Contains(out, "several accounts") {
		t.Fatalf("ambiguous login: %d", code)
	}
	// A redirect with a forged state: no token is stored.
	as.TamperRedirect(func(v url.Values) { v.Set("state", "forged") })
	if code, out := r.login(t, browser, "127.0.0.1"); code != 3 || !strings.Contains(out, "state does not match") {
		t.Fatalf("forged state: %d", code)
	}
	as.TamperRedirect(nil)
	if _, err := os.Stat(popTok); err == nil {
		t.Fatal("a token was stored after a forged redirect")
	}
	// Loopback login for the POP3 account, device login for the IMAP one.
	if code, _ := r.login(t, browser, "127.0.0.1", "msingh"); code != 0 {
		t.Fatalf("loopback login: %d", code)
	}
	as.SetPending(1)
	code, _ := r.login(t, func(line string) {
		if m := regexp.MustCompile(`enter the code (\S+)`).FindStringSubmatch(line); m != nil {
			as.Approve(m[1])
		}
	}, "--device", "localhost")
	if code != 0 {
		t.Fatalf("device login: %d", code)
	}
	for _, p := range []string{popTok, imTok} {
		fi, err := os.Lstat(p)
		if err != nil || fi.Mode().Perm() != 0o600 || !fi.Mode().IsRegular() {
			t.Fatalf("token file %s: %v %v", p, fi, err)
		}
	}
	secrets := r.secrets(t, popTok, imTok)

	// A poll with the stored tokens: no refresh.
	im.Append("INBOX", []byte("Subject: two\r\n\r\nbody\r\n"))
	code, out := r.run(t, "-f", r.rc, "-v", "-v")
	if code != 0 || len(maildirFiles(t, r.maildir)) != 2 || as.Requests("refresh_token") != 0 {
		t.Fatalf("poll: %d, %d delivered, %d refreshes", code, len(maildirFiles(t, r.maildir)), as.Requests("refresh_token"))
	}
	noSecrets(t, "a -v -v poll", out, secrets)

	// The provider drops the access tokens: each account refreshes once
	// and stores the rotated refresh token.
	as.Invalidate()
	mbox.Add(pop3test.Message{Data: []byte("Subject: three\n\nbody\n")})
	before, _ := oauth.Load(popTok)
	code, out = r.run(t, "-f", r.rc, "-v")
	after, _ := oauth.Load(popTok)
	if code != 0 || len(maildirFiles(t, r.maildir)) != 3 || as.Requests("refresh_token") != 2 {
		t.Fatalf("poll after invalidation: %d, %d refreshes", code, as.Requests("refresh_token"))
	}
	if after.RefreshToken == before.RefreshToken {
		t.Error("the rotated refresh token was not stored")
	}
	secrets = append(secrets, r.secrets(t, popTok, imTok)...)
	noSecrets(t, "a -v poll", out, secrets)

	// Nothing shows a secret: --configdump, -V, the preconnect's
	// environment and arguments.
	_, dump := r.run(t, "-f", r.rc, "--configdump")
	noSecrets(t, "--configdump", dump, secrets)
	_, v := r.run(t, "-f", r.rc, "-V")
	noSecrets(t, "-V", v, secrets)
	env, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	noSecrets(t, "the preconnect's environment", string(env), secrets)

	// The grant is revoked: exit 3 and one line naming the account and
	// the command to run.
	as.Invalidate()
	as.Revoke()
	code, out = r.run(t, "-f", r.rc, "127.0.0.1")
	want := "msingh@127.0.0.1 was revoked or has expired (the token endpoint answered invalid_grant): run 'gofetchmail oauth2 login -f " + r.rc + " 127.0.0.1 msingh'"
	if code != 3 || !strings.Contains(out, want) {
		t.Fatalf("revoked: exit %d, want 3 and %q", code, want)
	}
	noSecrets(t, "a revoked poll", out, secrets)
}

// TestOAuth2DaemonSyslog: a daemon refreshes an access token before it
// expires (not after the server refused it), and its syslog records, at
// -v -v, hold no token.
func TestOAuth2DaemonSyslog(t *testing.T) {
	t.Setenv("FETCHMAILHOME", "")
	var as *oauthtest.Server
	mbox := pop3test.NewMailbox("msingh", "foobar", pop3test.Message{Data: []byte("Subject: one\n\nbody\n")})
	pop, err := pop3test.NewServer(mbox, &pop3test.ServerOptions{SASL: []string{"XOAUTH2"}, TokenOK: func(tok string) bool { return as.Valid(tok) }})
	if err != nil {
		t.Fatal(err)
	}
	defer pop.Close()
	_, pport, _ := strings.Cut(pop.Addr, ":")
	// Valid for 2 s beyond the refresh margin: the daemon must refresh
	// within a few polls, before the server could refuse it.
	r := newOAuthRig(t, fmt.Sprintf("poll 127.0.0.1 proto pop3 port %s auth oauthbearer\n  user msingh there is tester here OAUTH\n", pport), oauth.Margin+2*time.Second)
	as = r.as
	if code, _ := r.login(t, browser); code != 0 {
		t.Fatalf("login: %d", code)
	}
	tokfile := r.tokenFile("msingh", "127.0.0.1")
	secrets := r.secrets(t, tokfile)

	sock := filepath.Join(r.home, "log.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := r.cmd(ctx, "-f", r.rc, "-d", "1", "--nodetach", "--syslog", "-v", "-v")
	c.Env = append(c.Env, "GOFETCHMAIL_SYSLOG_SOCKET="+sock)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			c.Process.Signal(syscall.SIGTERM)
			c.Wait()
		}
	}
	defer stop()
	var records []string
	buf := make([]byte, 16384)
	for as.Requests("refresh_token") < 2 {
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			stop()
			t.Fatalf("reading syslog records: %v; got:\n%s\n%s", err, strings.Join(records, "\n"), out.String())
		}
		records = append(records, string(buf[:n]))
		secrets = append(secrets, r.secrets(t, tokfile)...)
	}
	stop() // before its output is read
	all := strings.Join(records, "\n")
	if !strings.Contains(all, "POP3> AUTH XOAUTH2") {
		t.Errorf("no -v -v protocol trace in the syslog records:\n%s", all)
	}
	if strings.Contains(all, "refused the stored OAuth2 access token") {
		t.Errorf("the daemon sent a token about to expire instead of refreshing it first:\n%s", all)
	}
	noSecrets(t, "the syslog records", all, secrets)
	noSecrets(t, "the daemon's output", out.String(), secrets)
	if len(maildirFiles(t, r.maildir)) != 1 {
		t.Errorf("%d delivered", len(maildirFiles(t, r.maildir)))
	}
}

// TestOAuth2LoginRefusesLinkedDir: a token directory that is a symbolic
// link (someone else could point it anywhere) is refused with exit 6, and
// nothing is written through it.
func TestOAuth2LoginRefusesLinkedDir(t *testing.T) {
	t.Setenv("FETCHMAILHOME", "")
	r := newOAuthRig(t, "poll 127.0.0.1 proto pop3 port 1 auth oauthbearer\n  user msingh there is tester here OAUTH\n", time.Hour)
	elsewhere := t.TempDir()
	if err := os.Symlink(elsewhere, filepath.Join(r.home, ".gofetchmail-oauth2")); err != nil {
		t.Fatal(err)
	}
	code, out := r.login(t, browser)
	if code != 6 || !strings.Contains(out, "symbolic link") {
		t.Fatalf("exit %d, want 6 and a line about the link", code)
	}
	if names, _ := os.ReadDir(elsewhere); len(names) != 0 {
		t.Fatalf("written through the link: %v", names)
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/oauth2"

	"github.com/gofetchmail/gofetchmail/auth/oauth"
	"github.com/gofetchmail/gofetchmail/fetch"
	"github.com/gofetchmail/gofetchmail/rcparse"
)

const oauth2Usage = "usage: gofetchmail oauth2 login [--device] [--no-browser] [-f RC] [SERVER [USER]]"

// runOAuth2 is "gofetchmail oauth2 login": it authorizes one account of
// the rc file whose OAuth2 grant the program holds (docs/oauth2.md) and
// stores its tokens. Exit 0 on success, 5 for a usage or rc problem, 3
// when the authorization fails, 6 when the token file cannot be written.
func runOAuth2(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "login" {
		fmt.Fprintln(stderr, oauth2Usage)
		return int(fetch.StatusSyntax)
	}
	fs := pflag.NewFlagSet("gofetchmail oauth2 login", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	device := fs.Bool("device", false, "use the device authorization grant (a code to enter on another device)")
	noBrowser := fs.Bool("no-browser", false, "do not try to open a web browser")
	rcfile := fs.StringP("fetchmailrc", "f", "", "the rc file")
	fs.Usage = func() {} // printed below, on stdout for --help
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprintln(stdout, oauth2Usage)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return 0
		}
		fmt.Fprintf(stderr, "gofetchmail: oauth2 login: %v\n%s\n", err, oauth2Usage)
		return int(fetch.StatusSyntax)
	}
	if fs.NArg() > 2 {
		fmt.Fprintln(stderr, oauth2Usage)
		return int(fetch.StatusSyntax)
	}
	home := homeDir()
	f := newFlags(io.Discard)
	if *rcfile != "" {
		f.fs.Parse([]string{"-f", *rcfile})
	}
	rcpath := rcPath(f, home)
	cfg, code := loadConfig(rcpath, home, f, stderr)
	if cfg == nil {
		return code
	}
	j, err := oauth2Account(cfg, rcpath, fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "gofetchmail: oauth2 login: %v\n", err)
		return int(fetch.StatusSyntax)
	}
	conf, err := fetch.OAuth2Settings(j.User).Config()
	if err != nil {
		fmt.Fprintf(stderr, "gofetchmail: oauth2 login: %s: %v\n", j.Label(), err)
		return int(fetch.StatusSyntax)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	l := &oauth.Login{Config: conf, Out: stdout}
	if !*noBrowser {
		l.Browser = openBrowser
	}
	fmt.Fprintf(stdout, "Authorizing %s.\n", j.Label())
	var tok *oauth2.Token
	if *device || conf.Endpoint.AuthURL == "" {
		tok, err = l.Device(ctx)
	} else {
		lctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		tok, err = l.Loopback(lctx)
		cancel()
	}
	if err != nil {
		fmt.Fprintf(stderr, "gofetchmail: oauth2 login: %s: %v\n", j.Label(), err)
		return int(fetch.StatusAuthFail)
	}
	path := fetch.OAuth2TokenFile(j, home)
	if err := oauth.StoreLogin(path, tok); err != nil {
		fmt.Fprintf(stderr, "gofetchmail: oauth2 login: %s: %v\n", j.Label(), err)
		if fe := (*oauth.FileError)(nil); errors.As(err, &fe) {
			return int(fetch.StatusIOErr)
		}
		return int(fetch.StatusAuthFail) // a grant without a refresh token
	}
	fmt.Fprintf(stdout, "Authorized %s; the tokens are stored in %s.\n", j.Label(), path)
	return 0
}

// oauth2Account is the one account of cfg the arguments name ([SERVER
// [USER]]) among those whose OAuth2 grant the program holds.
func oauth2Account(cfg *rcparse.Config, rcpath string, args []string) (fetch.Job, error) {
	var found []fetch.Job
	var srv *rcparse.Server
	if len(args) > 0 {
		if srv = findServer(cfg, args[0]); srv == nil {
			return fetch.Job{}, fmt.Errorf("%s has no entry for server %q", rcpath, args[0])
		}
	}
	for _, s := range cfg.Servers {
		if srv != nil && s != srv {
			continue
		}
		for _, u := range s.Users {
			if len(args) > 1 && u.Remotename != args[1] {
				continue
			}
			if fetch.ManagesOAuth2(u) {
				found = append(found, fetch.Job{Config: cfg, Server: s, User: u})
			}
		}
	}
	switch len(found) {
	case 0:
		what := "any account"
		if len(args) > 0 {
			what = strings.Join(args, " ")
		}
		return fetch.Job{}, fmt.Errorf("%s has no oauthprovider or oauthclientid for %s (docs/oauth2.md)", rcpath, what)
	case 1:
		return found[0], nil
	}
	var names []string
	for _, j := range found {
		names = append(names, j.Server.Pollname+" "+j.User.Remotename)
	}
	return fetch.Job{}, fmt.Errorf("several accounts could be meant (%s): name SERVER and USER", strings.Join(names, ", "))
}

// openBrowser offers url to the desktop's browser, if there is a desktop.
// Only the URL is passed: it holds no secret (client_id, state and the
// PKCE challenge, not the verifier).
func openBrowser(url string) error {
	var cmd *exec.Cmd
	switch {
	case runtime.GOOS == "darwin":
		cmd = exec.Command("open", url)
	case os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != "":
		cmd = exec.Command("xdg-open", url)
	default:
		return errors.New("no desktop")
	}
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	return nil
}

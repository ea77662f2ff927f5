package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/gofetchmail/gofetchmail/doctor"
	"github.com/gofetchmail/gofetchmail/fetch"
	"github.com/gofetchmail/gofetchmail/rcparse"
)

const doctorUsage = "usage: gofetchmail doctor [-f RC] [SERVER...]"

// runDoctor is "gofetchmail doctor": the read-only check of the accounts
// of the rc file (package doctor, docs/doctor.md). Exit 0 when every
// account is healthy, else fetchmail's status of the first failure.
func runDoctor(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("gofetchmail doctor", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	rcfile := fs.StringP("fetchmailrc", "f", "", "the rc file")
	noBuiltinSSH := fs.Bool("no-builtin-ssh", false, "run ssh preconnects and plugins as fetchmail does (doctor then does not run them)")
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprintln(stdout, doctorUsage)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return 0
		}
		fmt.Fprintf(stderr, "gofetchmail: doctor: %v\n%s\n", err, doctorUsage)
		return int(fetch.StatusSyntax)
	}
	home := homeDir()
	f := newFlags(io.Discard)
	if *rcfile != "" {
		f.fs.Parse([]string{"-f", *rcfile})
	}
	rcpath := rcPath(f, home)
	if a, err := filepath.Abs(rcpath); err == nil {
		rcpath = a
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var prompt func(string) (string, error)
	if term.IsTerminal(int(os.Stdin.Fd())) {
		p := &terminalPrompter{ctx: ctx, fd: int(os.Stdin.Fd()), out: os.Stderr}
		prompt = p.prompt
	}
	opts := fetch.Options{
		Logger:       slog.New(slog.DiscardHandler), // the lines say it all
		Home:         home,
		NoBuiltinSSH: *noBuiltinSSH,
		Password:     prompt,
		NetrcFile:    filepath.Join(home, ".netrc"),
		Check:        true,
	}
	opts.OAuth2 = func(j fetch.Job) (fetch.OAuth2Tokens, error) {
		return fetch.NewOAuth2Source(j, home, *rcfile)
	}
	return doctor.Run(ctx, doctor.Config{
		RCPath: rcpath,
		Parse:  rcparse.Options{Home: home, User: loginName(), Root: os.Geteuid() == 0, MultiIdle: true},
		Names:  fs.Args(),
		Out:    stdout,
		Select: selectJobs,
		Fetch:  opts,
	})
}

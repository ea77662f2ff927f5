package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/gofetchmail/gofetchmail/fetch"
	"github.com/gofetchmail/gofetchmail/rcparse"
	"github.com/gofetchmail/gofetchmail/secrets"
)

// run is the whole program; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	// Before anything secret is read: no core dump may hold a password.
	if err := makeUndumpable(); err != nil {
		fmt.Fprintf(stderr, "gofetchmail: cannot make the process undumpable (a core dump could hold the password): %v\n", err)
	}
	if len(args) > 0 && args[0] == "demo" {
		return runDemo(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "oauth2" {
		return runOAuth2(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "doctor" {
		return runDoctor(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "completion" {
		return runCompletion(args[1:], stdout, stderr)
	}
	// fetchmail refuses to run, before anything else, when these are set:
	// qmail-inject or nullmailer would tamper with the delivered headers.
	for _, v := range []string{"QMAILINJECT", "NULLMAILER_FLAGS"} {
		if os.Getenv(v) != "" {
			fmt.Fprintf(stderr, "gofetchmail: The %s environment variable is set.\nThis is dangerous as it can make qmail-inject or nullmailer tamper with your headers.\nTry \"env %s= gofetchmail YOUR ARGUMENTS HERE\"\n", v, v)
			return int(fetch.StatusUndefined)
		}
	}
	f := newFlags(stderr)
	args, notes := expandAbbrev(f.fs, args)
	for _, n := range notes {
		fmt.Fprintf(stderr, "gofetchmail: %s\n", n)
	}
	if err := f.fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			usage(stdout, f)
			return 0
		}
		fmt.Fprintf(stderr, "gofetchmail: %v\n", err)
		if isUnknownOption(err) {
			// fetchmail prints the usage and exits 0 on an unknown option.
			usage(stdout, f)
			return 0
		}
		return int(fetch.StatusSyntax)
	}
	if f.help {
		usage(stdout, f)
		return 0
	}
	if f.version {
		f.configdump = false // as fetchmail: -V wins
	}
	resolveFlagPaths(f)
	// st is set in the detached daemon child (startup.go); said is what
	// this process told the user before detaching.
	st := takeStartup()
	said := &lineRecorder{w: stderr}
	home := homeDir()
	rcpath := rcPath(f, home)
	if f.version {
		printVersion(stdout)
	}

	cfg, code := loadConfig(rcpath, home, f, said)
	if cfg == nil {
		return code
	}
	if f.configdump {
		if err := cfg.DumpJSON(stdout); err != nil {
			fmt.Fprintf(stderr, "gofetchmail: %v\n", err)
			return int(fetch.StatusUndefined)
		}
		return 0
	}
	if f.version {
		cfg.Summary(stdout)
		return 0
	}

	lock, code, done := takeLock(cfg, f, home, said)
	if done {
		return code
	}
	defer lock.release()

	if len(cfg.Servers) == 0 {
		fmt.Fprintln(said, "gofetchmail: no mailservers have been specified.")
		if _, err := os.Stat(rcpath); errors.Is(err, fs.ErrNotExist) {
			abs, _ := filepath.Abs(rcpath)
			fmt.Fprintf(said, "gofetchmail: the rc file %s does not exist.\n", abs)
		}
		return int(fetch.StatusSyntax)
	}
	// SIGINT and SIGTERM end the run through ctx; at a password prompt
	// they also end the prompt (prompt.go).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigc)
	var prompter *terminalPrompter
	var prompt func(string) (string, error)
	if term.IsTerminal(int(os.Stdin.Fd())) {
		prompter = &terminalPrompter{ctx: ctx, fd: int(os.Stdin.Fd()), out: os.Stderr}
		prompt = prompter.prompt
	}
	go func() {
		select {
		case sig := <-sigc:
			if prompter != nil {
				prompter.setSignal(sig)
			}
			cancel()
		case <-ctx.Done():
		}
	}()
	netrcFile := filepath.Join(home, ".netrc")
	netrc, _ := secrets.LoadNetrc(netrcFile) // an unreadable one: the poll says why
	var asked []fetch.Job
	if jobs, err := selectJobs(cfg, f.fs.Args()); err == nil {
		if st != nil {
			f.typed = st.receivePasswords()
			applySecrets(cfg, f.typed)
		}
		asked, err = askPasswords(jobs, netrc, prompt)
		f.typed = append(f.typed, typedSecrets(cfg, asked)...)
		if s := prompter.abortStatus(); s != 0 {
			return s
		}
		if err != nil {
			fmt.Fprintf(said, "gofetchmail: %v\n", errors.Unwrap(err))
			return int(fetch.StatusOf(err))
		}
	}
	daemon := cfg.Daemon
	if f.check {
		daemon = 0
	}
	if daemon > 0 && !f.nodetach && st == nil {
		signal.Stop(sigc) // ^C while the child starts: the parent goes
		return detach(said, f.typed)
	}
	if daemon > 0 {
		// The rc file is read again on a change, from "/" in a detached
		// daemon.
		if a, err := filepath.Abs(rcpath); err == nil {
			rcpath = a
		}
	}
	if err := lock.acquire(daemon, stderr); err != nil {
		return int(fetch.StatusExclude)
	}

	logfile := ""
	if cfg.Logfile != nil && daemon > 0 {
		logfile = *cfg.Logfile
	}
	if f.given("logfile") && cfg.Logfile != nil {
		logfile = *cfg.Logfile // made absolute: a daemon runs in "/"
	}
	// On a terminal, long fetches show a progress line (not in daemons,
	// not with -s).
	var status *statusLine
	if tf, ok := stderr.(*os.File); ok && term.IsTerminal(int(tf.Fd())) && daemon == 0 && !f.silent && logfile == "" {
		status = newStatusLine(stderr)
	}
	logger, closeLog, err := openLogger(f, cfg.Syslog && !f.given("logfile"), logfile, stdout, stderr, status)
	if err != nil {
		fmt.Fprintf(stderr, "gofetchmail: %v\n", err)
		return int(fetch.StatusUndefined)
	}
	defer closeLog()
	st.ready()

	opts := fetch.Options{
		Logger:       logger,
		Verbose:      f.verbose,
		Home:         home,
		NoBuiltinSSH: f.noBuiltinSSH,
		Check:        f.check,
		Version:      version,
		SizeWarnings: daemon > 0 && !f.nodetach, // as fetchmail
	}
	opts.Password = prompt
	opts.NetrcFile = netrcFile
	opts.Secrets = secrets.NewStore() // one per process: a passwordfd is read once
	opts.OAuth2 = func(j fetch.Job) (fetch.OAuth2Tokens, error) {
		return fetch.NewOAuth2Source(j, home, f.rcfile)
	}
	if status != nil {
		opts.Progress = status.update
	}
	opts.Daemon = daemon > 0
	opts.PollDone = func(r fetch.Result) { logPollError(ctx, logger, r) }
	if daemon > 0 {
		code = daemonLoop(ctx, cfg, rcpath, home, f, opts, daemon, newSDNotifier(logger))
	} else {
		code = pollOnce(ctx, cfg, f, opts)
	}
	if s := prompter.abortStatus(); s != 0 {
		return s // ^C at an SSH prompt ended the run
	}
	return code
}

// pollOnce runs every selected entry once and returns the exit status.
func pollOnce(ctx context.Context, cfg *rcparse.Config, f *flags, opts fetch.Options) int {
	code, _ := pollCycle(ctx, cfg, f, opts, nil, 0)
	return code
}

// pollCycle runs daemon cycle number cycle (0 is the first): every selected
// entry, except those with "interval K", which fetchmail polls only on
// every Kth cycle, starting with the first. A daemon passes its runner,
// which keeps SSH connections between cycles; nil runs one-shot.
func pollCycle(ctx context.Context, cfg *rcparse.Config, f *flags, opts fetch.Options, runner *fetch.Runner, cycle int) (int, []fetch.Result) {
	all, err := selectJobs(cfg, f.fs.Args())
	if err != nil {
		opts.Logger.Error(err.Error())
		return int(fetch.StatusSyntax), nil
	}
	jobs := dueJobs(all, cycle)
	if len(jobs) < len(all) {
		opts.Logger.Debug(fmt.Sprintf("interval not reached, not querying %d entries in cycle %d", len(all)-len(jobs), cycle))
	}
	if len(jobs) == 0 {
		return int(fetch.StatusNoMail), nil
	}
	load := fetch.LoadUIDStore
	if runner != nil {
		load = runner.Store // shared with the IMAP IDLE sessions
	}
	uids, err := load(cfg.Idfile)
	if err != nil {
		opts.Logger.Error(err.Error())
		return int(fetch.StatusIOErr), nil
	}
	var results []fetch.Result
	if runner != nil {
		results = runner.Run(ctx, jobs, uids)
	} else {
		results = fetch.Run(ctx, jobs, uids, opts)
	}
	if opts.PollDone == nil { // each error was logged after its own poll otherwise
		for _, r := range results {
			logPollError(ctx, opts.Logger, r)
		}
	}
	return int(fetch.ExitStatus(results)), results
}

// logPollError logs the error a poll ended with, if any. A poll cut short
// because the program is being stopped (--quit, SIGTERM, ^C) is not an
// error of the server's: it is noted at debug level only.
func logPollError(ctx context.Context, log *slog.Logger, r fetch.Result) {
	switch {
	case r.Err == nil:
	case ctx.Err() != nil:
		log.Debug("poll interrupted: " + r.Err.Error())
	default:
		log.Error(r.Err.Error())
	}
}

// dueJobs keeps the jobs due in daemon cycle number cycle: an entry with
// "interval K" is due on cycles 0, K, 2K, ...
func dueJobs(all []fetch.Job, cycle int) []fetch.Job {
	var jobs []fetch.Job
	for _, j := range all {
		if k := j.Server.Interval; k > 1 && cycle%k != 0 {
			continue
		}
		jobs = append(jobs, j)
	}
	return jobs
}

// loadConfig checks and parses the rc file and applies the command line.
// A nil config means: exit with the returned code.
func loadConfig(rcpath, home string, f *flags, stderr io.Writer) (*rcparse.Config, int) {
	opts := rcparse.Options{Home: home, User: loginName(), Root: os.Geteuid() == 0}
	// IDLE on several accounts is an extension; --configdump keeps
	// fetchmail's verdict on the file.
	opts.MultiIdle = !f.configdump
	// As fetchmail: -V reads any rc file (its summary shows no secret),
	// everything else, --configdump included, only a private one.
	if !f.version {
		if err := rcparse.CheckPermissions(rcpath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			printPermissionError(stderr, err)
			return nil, int(fetch.StatusIOErr)
		}
	}
	cfg, warns, err := rcparse.ParseFile(rcpath, opts)
	if errors.Is(err, fs.ErrNotExist) {
		// A missing rc file, also one named with -f, is an empty
		// configuration, as in fetchmail: servers on the command line
		// are polled, and without any the run ends with "no mailservers"
		// (status 5), which run says about the missing file.
		cfg, warns, err = rcparse.Parse(rcpath, nil, opts)
	}
	for _, w := range warns {
		fmt.Fprintln(stderr, w.String()) // already prefixed like fetchmail's
	}
	if err != nil {
		var se *rcparse.SyntaxError
		var le *rcparse.LogfileError
		switch {
		case errors.As(err, &se):
			fmt.Fprintln(stderr, err.Error())
			if h := se.HintText(); h != "" {
				fmt.Fprintln(stderr, h)
			}
			return nil, int(fetch.StatusSyntax)
		case errors.As(err, &le):
			fmt.Fprintf(stderr, "gofetchmail: %v\n", err)
			return nil, int(fetch.StatusUndefined)
		}
		fmt.Fprintf(stderr, "gofetchmail: %v\n", err)
		return nil, int(fetch.StatusIOErr)
	}
	// Server names on the command line that the rc file does not know
	// become entries of their own, with the built-in defaults.
	for _, name := range f.fs.Args() {
		if findServer(cfg, name) == nil {
			adhoc, _, err := rcparse.Parse("command line", []byte(fmt.Sprintf("poll %q\n", name)), opts)
			if err != nil || len(adhoc.Servers) == 0 {
				fmt.Fprintf(stderr, "gofetchmail: cannot poll %q: %v\n", name, err)
				return nil, int(fetch.StatusSyntax)
			}
			cfg.Servers = append(cfg.Servers, adhoc.Servers...)
		}
	}
	if err := applyOverrides(cfg, f); err != nil {
		fmt.Fprintf(stderr, "gofetchmail: %v\n", err)
		return nil, int(fetch.StatusSyntax)
	}
	applySecrets(cfg, f.typed) // a daemon reloading its rc file keeps them
	return cfg, 0
}

// printPermissionError prints a refused rc file: fetchmail's own line
// (unprefixed, as fetchmail prints it), then the command that fixes it.
func printPermissionError(w io.Writer, err error) {
	var pe *rcparse.PermissionError
	if !errors.As(err, &pe) {
		fmt.Fprintf(w, "gofetchmail: %v\n", err)
		return
	}
	fmt.Fprintln(w, pe.Msg)
	if pe.Fix != "" {
		fmt.Fprintf(w, "gofetchmail: to fix it, run: %s\n", pe.Fix)
	}
}

// findServer finds an entry by poll name or aka name.
func findServer(cfg *rcparse.Config, name string) *rcparse.Server {
	for _, s := range cfg.Servers {
		if s.Pollname == name {
			return s
		}
		for _, a := range s.Aka {
			if a == name {
				return s
			}
		}
	}
	return nil
}

// selectJobs picks the entries to poll: those named on the command line, or
// every entry not marked skip. Either way they are polled in rc-file order,
// each once, as fetchmail does.
func selectJobs(cfg *rcparse.Config, names []string) ([]fetch.Job, error) {
	var servers []*rcparse.Server
	if len(names) > 0 {
		named := map[*rcparse.Server]bool{}
		for _, n := range names {
			s := findServer(cfg, n)
			if s == nil {
				return nil, fmt.Errorf("no entry for server %q", n)
			}
			named[s] = true
		}
		for _, s := range cfg.Servers {
			if named[s] {
				servers = append(servers, s)
			}
		}
	} else {
		for _, s := range cfg.Servers {
			if !s.Skip {
				servers = append(servers, s)
			}
		}
	}
	var jobs []fetch.Job
	for _, s := range servers {
		for _, u := range s.Users {
			jobs = append(jobs, fetch.Job{Config: cfg, Server: s, User: u})
		}
	}
	return jobs, nil
}

func homeDir() string {
	if h := os.Getenv("HOME_ETC"); h != "" {
		return h
	}
	if h := os.Getenv("HOME"); h != "" {
		return h
	}
	if u, err := user.Current(); err == nil {
		return u.HomeDir
	}
	return "/"
}

// rcPath finds the rc file as fetchmail does: -f, $FETCHMAILHOME/fetchmailrc,
// then ~/.fetchmailrc.
func rcPath(f *flags, home string) string {
	if f.rcfile != "" {
		p, _ := rcparse.ExpandTilde(f.rcfile) // "-f ~/x" quoted, or "--fetchmailrc=~/x"
		return p
	}
	if fh := os.Getenv("FETCHMAILHOME"); fh != "" {
		return filepath.Join(fh, "fetchmailrc")
	}
	return filepath.Join(home, ".fetchmailrc")
}

// loginName is the calling user's name: FETCHMAILUSER, LOGNAME, USER, then
// the passwd entry.
func loginName() string {
	for _, v := range []string{"FETCHMAILUSER", "LOGNAME", "USER"} {
		if n := os.Getenv(v); n != "" {
			if u, err := user.Lookup(n); err == nil && u.Uid == fmt.Sprint(os.Getuid()) {
				return n
			}
		}
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "nobody"
}

func printVersion(w io.Writer) {
	bi, _ := debug.ReadBuildInfo()
	fmt.Fprintln(w, versionLine(version, buildCommit, bi))
}

// versionLine is -V's first line. The release is the one set at build
// time (the Makefile's git describe), else the module version Go records
// for "go install ...@vX.Y.Z"; the commit is the one set at build time,
// else the VCS revision Go stamps into a "go build" from a checkout, with
// "modified" when the tree had uncommitted changes. A binary that carries
// neither (built with -buildvcs=false, or from a tarball) names no commit
// rather than "commit unknown".
func versionLine(release, commit string, bi *debug.BuildInfo) string {
	modified := false
	var vcsTime string
	if bi != nil {
		if v := bi.Main.Version; v != "" && v != "(devel)" && release == defaultVersion {
			release = strings.TrimPrefix(v, "v")
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if commit == "" {
					commit = s.Value
				}
			case "vcs.modified":
				modified = s.Value == "true"
			case "vcs.time":
				vcsTime = s.Value
			}
		}
	}
	build := runtime.Version()
	if commit != "" {
		build += ", commit " + commit
		if modified {
			build += " modified"
		}
		if vcsTime != "" {
			build += " of " + vcsTime
		}
	}
	return fmt.Sprintf("This is gofetchmail release %s (%s), a fetchmail-compatible retriever with in-process SSH.", release, build)
}

func isUnknownOption(err error) bool {
	var nf *pflag.NotExistError
	return errors.As(err, &nf)
}

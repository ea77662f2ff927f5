package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/gofetchmail/gofetchmail/fetch"
	"github.com/gofetchmail/gofetchmail/rcparse"
)

// run is the whole program; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "demo" {
		return runDemo(args[1:], stdout, stderr)
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
	home := homeDir()
	rcpath := rcPath(f, home)
	if f.version {
		printVersion(stdout)
	}

	cfg, code := loadConfig(rcpath, home, f, stderr)
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

	lock, code, done := takeLock(cfg, f, home, stderr)
	if done {
		return code
	}
	defer lock.release()

	if len(cfg.Servers) == 0 {
		fmt.Fprintln(stderr, "gofetchmail: no mailservers have been specified.")
		return int(fetch.StatusSyntax)
	}
	var prompt func(string) (string, error)
	if term.IsTerminal(int(os.Stdin.Fd())) {
		prompt = promptPassword
	}
	netrcFile := filepath.Join(home, ".netrc")
	netrc, _ := fetch.LoadNetrc(netrcFile) // an unreadable one: the poll says why
	if jobs, err := selectJobs(cfg, f.fs.Args()); err == nil {
		if err := askPasswords(jobs, netrc, prompt); err != nil {
			fmt.Fprintf(stderr, "gofetchmail: %v\n", errors.Unwrap(err))
			return int(fetch.StatusOf(err))
		}
	}
	daemon := cfg.Daemon
	if f.check {
		daemon = 0
	}
	if daemon > 0 && !f.nodetach && os.Getenv(detachedEnv) == "" {
		return detach(cfg, stderr)
	}
	if err := lock.acquire(daemon, stderr); err != nil {
		return int(fetch.StatusExclude)
	}

	logfile := ""
	if cfg.Logfile != nil && daemon > 0 {
		logfile = *cfg.Logfile
	}
	if f.given("logfile") {
		logfile = f.logfile
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

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

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
	if status != nil {
		opts.Progress = status.update
	}
	if daemon > 0 {
		return daemonLoop(ctx, cfg, rcpath, home, f, opts, daemon, newSDNotifier(logger))
	}
	return pollOnce(ctx, cfg, f, opts)
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
	for _, r := range results {
		if r.Err != nil {
			opts.Logger.Error(r.Err.Error())
		}
	}
	return int(fetch.ExitStatus(results)), results
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
	if !f.version && !f.configdump {
		if err := rcparse.CheckPermissions(rcpath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(stderr, "gofetchmail: %v\n", err)
			return nil, int(fetch.StatusIOErr)
		}
	}
	cfg, warns, err := rcparse.ParseFile(rcpath, opts)
	if errors.Is(err, fs.ErrNotExist) && !f.given("fetchmailrc") {
		// A missing rc file is an empty configuration, as in fetchmail.
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
	return cfg, 0
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
		return f.rcfile
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

func promptPassword(prompt string) (string, error) {
	fmt.Fprint(os.Stderr, prompt)
	b, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(os.Stderr)
	return string(b), err
}

func printVersion(w io.Writer) {
	commit := buildCommit
	if bi, ok := debug.ReadBuildInfo(); ok && commit == "" {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				commit = s.Value
			}
		}
	}
	if commit == "" {
		commit = "unknown"
	}
	fmt.Fprintf(w, "This is gofetchmail release %s (%s, commit %s), a fetchmail-compatible retriever with in-process SSH.\n", version, runtime.Version(), commit)
}

func usage(w io.Writer, f *flags) {
	fmt.Fprintln(w, "usage:  gofetchmail [options] [server ...]")
	fmt.Fprintln(w, "        gofetchmail demo")
	fmt.Fprintln(w, "  Options are as follows:")
	fmt.Fprint(w, f.fs.FlagUsages())
}

func isUnknownOption(err error) bool {
	var nf *pflag.NotExistError
	return errors.As(err, &nf)
}

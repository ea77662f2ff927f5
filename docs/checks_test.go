package docs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/gofetchmail/gofetchmail/rcparse"
)

// repoRoot is where the commands of the documentation run: the checkout.
const repoRoot = ".."

// checkRC parses an rc file example. A fragment (a few server or user
// options) is parsed inside a poll entry, or inside a user of one. It
// returns the parsed configuration as the --configdump JSON.
func checkRC(t tb, text string) map[string]any {
	t.Helper()
	opts := rcparse.Options{Home: t.TempDir(), User: "joe"}
	var firstErr error
	for _, prefix := range []string{"", "poll pop.example.org proto pop3\n", "poll pop.example.org proto pop3\n  user joe there is joe here\n"} {
		cfg, warns, err := rcparse.Parse("example", []byte(prefix+text), opts)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		for _, w := range warns {
			t.Errorf("rc example: warning: %s", w.String())
		}
		var buf bytes.Buffer
		if err := cfg.DumpJSON(&buf); err != nil {
			t.Fatal(err)
		}
		var dump map[string]any
		if err := json.Unmarshal(buf.Bytes(), &dump); err != nil {
			t.Fatal(err)
		}
		return dump
	}
	t.Errorf("rc example does not parse: %v\n%s", firstErr, text)
	return nil
}

// parsesAsRC reports whether text is an rc file or fragment.
func parsesAsRC(text string) bool {
	opts := rcparse.Options{Home: os.TempDir(), User: "joe"}
	for _, prefix := range []string{"", "poll pop.example.org proto pop3\n", "poll pop.example.org proto pop3\n  user joe there is joe here\n"} {
		if _, _, err := rcparse.Parse("example", []byte(prefix+text), opts); err == nil {
			return true
		}
	}
	return false
}

// jsonPath finds a value in decoded JSON by a dotted path: "servers.0.port".
func jsonPath(v any, path string) (any, bool) {
	for _, k := range strings.Split(path, ".") {
		switch c := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = c[k]; !ok {
				return nil, false
			}
		case []any:
			var i int
			if _, err := fmt.Sscan(k, &i); err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// shellLines splits a shell example into command lines: backslash
// continuations joined, blank and comment lines dropped. When some lines
// carry a "$ " prompt, only those are commands (the rest is output).
func shellLines(text string) []string {
	raw := strings.Split(strings.ReplaceAll(text, "\\\n", " "), "\n")
	prompted := false
	for _, l := range raw {
		if strings.HasPrefix(strings.TrimSpace(l), "$ ") {
			prompted = true
		}
	}
	var out []string
	for _, l := range raw {
		l = strings.TrimSpace(l)
		if prompted {
			if !strings.HasPrefix(l, "$ ") {
				continue
			}
			l = strings.TrimSpace(l[2:])
		}
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, l)
	}
	return out
}

// checkShell checks every command of a shell example.
func checkShell(t tb, text string) {
	t.Helper()
	lines := shellLines(text)
	if len(lines) == 0 {
		t.Errorf("shell example without a command:\n%s", text)
	}
	for _, l := range lines {
		checkCommandLine(t, l)
	}
}

// checkCommandLine checks each simple command of one shell command line.
func checkCommandLine(t tb, line string) {
	t.Helper()
	cmds, err := shellCommands(line)
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	for _, argv := range cmds {
		checkCommand(t, line, argv)
	}
}

var assignRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// knownTools may be missing where the tests run; commands naming them are
// taken as written.
var knownTools = map[string]bool{
	"systemctl": true, "loginctl": true, "journalctl": true, "ssh": true, "ssh-add": true,
	"ssh-keygen": true, "ssh-keyscan": true, "mutt": true, "crontab": true, "nmcli": true,
	"fetchmail": true, "logger": true, "runuser": true, "apt-get": true,
}

// checkCommand checks one simple command: gofetchmail's options exist and
// take the values given, go/make/man name packages, targets and files that
// exist, scripts exist and are executable, and any other program is
// installed or a well-known tool.
func checkCommand(t tb, line string, argv []string) {
	t.Helper()
	for len(argv) > 0 && (assignRE.MatchString(argv[0]) || argv[0] == "sudo" || argv[0] == "env" || argv[0] == "exec" || argv[0] == "nohup") {
		argv = argv[1:]
	}
	if len(argv) == 0 {
		return
	}
	prog, args := argv[0], argv[1:]
	switch {
	case filepath.Base(prog) == "gofetchmail":
		checkGofetchmail(t, line, args)
	case prog == "go":
		checkGo(t, line, args)
	case prog == "make":
		checkMake(t, line, args)
	case strings.HasPrefix(prog, "scripts/") || strings.HasPrefix(prog, "./"):
		fi, err := os.Stat(filepath.Join(repoRoot, prog))
		if err != nil || fi.Mode()&0o111 == 0 {
			t.Errorf("%q: %s is not an executable file of the checkout", line, prog)
		}
	default:
		if _, err := exec.LookPath(prog); err != nil && !knownTools[prog] {
			t.Errorf("%q: no program %q", line, prog)
		}
	}
	for _, a := range args {
		if p := strings.TrimPrefix(a, "./"); strings.HasPrefix(p, "docs/") || strings.HasPrefix(p, "scripts/") || strings.HasPrefix(p, "cmd/") {
			if _, err := os.Stat(filepath.Join(repoRoot, strings.TrimSuffix(p, "/..."))); err != nil {
				t.Errorf("%q: %s is not in the checkout", line, a)
			}
		}
	}
}

// checkGofetchmail runs the built gofetchmail with the example's arguments:
// the subcommands for real, anything else with --configdump, which parses
// every option and its value, applies them to a configuration and exits.
// The example passes when gofetchmail exits 0 and says nothing on stderr
// (an unknown or abbreviated option, a bad value all show there).
func checkGofetchmail(t tb, line string, args []string) {
	t.Helper()
	bin := binary(t)
	home := t.TempDir()
	var argv []string
	switch {
	case len(args) > 0 && args[0] == "demo":
		if len(args) > 2 {
			t.Errorf("%q: demo takes at most a directory", line)
		}
		argv = []string{"demo", filepath.Join(home, "demo")}
	case len(args) > 0 && args[0] == "completion":
		argv = args
	case len(args) > 0 && args[0] == "doctor":
		// A check needs the user's servers: the example's options are
		// parsed, then --help ends the run (exit 0, stderr empty).
		argv = append(append([]string{}, args...), "--help")
	case len(args) > 0 && args[0] == "oauth2":
		// A login needs a browser and a provider: the example's options
		// are parsed, then --help ends the run (exit 0, stderr empty).
		argv = append(append([]string{}, args...), "--help")
	default:
		argv = []string{"--configdump"}
		for i := 0; i < len(args); i++ {
			a := strings.ReplaceAll(args[i], "$HOME", home)
			if a == "~" || strings.HasPrefix(a, "~/") {
				a = home + a[1:]
			}
			switch {
			case (a == "-f" || a == "--fetchmailrc") && i+1 < len(args):
				// The rc file named is the user's; an empty one stands in.
				argv = append(argv, a, filepath.Join(home, ".fetchmailrc"))
				i++
				continue
			case strings.HasPrefix(a, "--fetchmailrc="):
				a = "--fetchmailrc=" + filepath.Join(home, ".fetchmailrc")
			}
			argv = append(argv, a)
		}
		if err := os.WriteFile(filepath.Join(home, ".fetchmailrc"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range argv {
		if a == "--" || argv[0] == "oauth2" || argv[0] == "doctor" { // its own options, checked by its parser
			break
		}
		if name, ok := strings.CutPrefix(a, "--"); ok {
			if name, _, _ = strings.Cut(name, "="); !longOptions(t)[name] {
				t.Errorf("%q: --%s is not an option's full name", line, name)
			}
		}
	}
	cmd := exec.Command(bin, argv...)
	cmd.Dir = home
	cmd.Env = append(os.Environ(), "HOME="+home, "FETCHMAILHOME=", "QMAILINJECT=", "NULLMAILER_FLAGS=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil || stderr.Len() > 0 {
		t.Errorf("%q: gofetchmail %s: %v\n%s", line, strings.Join(argv, " "), err, stderr.String())
	}
	if len(args) > 0 && args[0] == "demo" && !strings.Contains(stdout.String(), "demo OK") {
		t.Errorf("%q: the demo did not say OK:\n%s", line, stdout.String())
	}
}

var (
	longOnce sync.Once
	longOpts map[string]bool
)

// longOptions are the long option names gofetchmail --help lists.
func longOptions(t tb) map[string]bool {
	longOnce.Do(func() {
		longOpts = map[string]bool{}
		out, err := exec.Command(binary(t), "--help").Output()
		if err != nil {
			t.Errorf("gofetchmail --help: %v", err)
		}
		// An option line: "  -p, --protocol, --proto PROTO  text"; the
		// names are before the first two-space gap.
		for _, m := range regexp.MustCompile(`(?m)^\s+((?:-\S, )?--\S.*)$`).FindAllStringSubmatch(string(out), -1) {
			names, _, _ := strings.Cut(m[1], "  ")
			for _, n := range regexp.MustCompile(`--([a-z0-9-]+)`).FindAllStringSubmatch(names, -1) {
				longOpts[n[1]] = true
			}
		}
	})
	return longOpts
}

// checkGo checks go run/install/build/test/vet commands: the packages named
// are in the checkout (go install's under this module's path), and the
// arguments go run passes to gofetchmail are gofetchmail's.
func checkGo(t tb, line string, args []string) {
	t.Helper()
	if len(args) == 0 {
		t.Errorf("%q: go without a command", line)
		return
	}
	gomod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	module := strings.TrimSpace(strings.TrimPrefix(strings.SplitN(string(gomod), "\n", 2)[0], "module"))
	pkgExists := func(p string) bool {
		p = strings.TrimSuffix(strings.TrimSuffix(p, "/..."), "...")
		fi, err := os.Stat(filepath.Join(repoRoot, p))
		return err == nil && fi.IsDir()
	}
	sub, rest := args[0], args[1:]
	var pkgs []string
	for i := 0; i < len(rest); i++ {
		switch {
		case rest[i] == "-o" || rest[i] == "-tags" || rest[i] == "-run" || rest[i] == "-ldflags":
			i++
		case strings.HasPrefix(rest[i], "-"):
		default:
			pkgs = append(pkgs, rest[i])
			if sub == "run" {
				// The rest are the program's arguments.
				if strings.TrimPrefix(rest[i], "./") == "cmd/gofetchmail" {
					checkGofetchmail(t, line, rest[i+1:])
				}
				i = len(rest)
			}
		}
	}
	if len(pkgs) == 0 && sub != "test" && sub != "vet" && sub != "build" {
		t.Errorf("%q: no package named", line)
	}
	for _, p := range pkgs {
		switch sub {
		case "install":
			path, _, _ := strings.Cut(p, "@")
			if strings.HasPrefix(path, "./") {
				path = module + path[1:]
			}
			if !strings.HasPrefix(path, module+"/") || !pkgExists(strings.TrimPrefix(path, module+"/")) {
				t.Errorf("%q: %s is not a package of module %s", line, p, module)
			}
		case "run", "build", "test", "vet":
			if !strings.HasPrefix(p, ".") || !pkgExists(p) {
				t.Errorf("%q: %s is not a package directory of the checkout", line, p)
			}
		default:
			t.Errorf("%q: go %s is not checked; use go run/install/build/test/vet", line, sub)
		}
	}
}

// checkMake checks that make knows the targets, with the variables given
// (make -n: nothing is built).
func checkMake(t tb, line string, args []string) {
	t.Helper()
	mk, err := exec.LookPath("make")
	if err != nil {
		t.Skip("make not installed")
	}
	argv := []string{"-n", "-C", repoRoot}
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			t.Errorf("%q: make options are not checked", line)
		}
		argv = append(argv, a)
	}
	if out, err := exec.Command(mk, argv...).CombinedOutput(); err != nil {
		t.Errorf("%q: make %s: %v\n%s", line, strings.Join(argv, " "), err, out)
	}
}

var (
	cronTimeRE = regexp.MustCompile(`^\s*((?:[0-9A-Za-z*/,-]+\s+){4}[0-9A-Za-z*/,-]+)\s+(\S.*)$`)
	cronAtRE   = regexp.MustCompile(`^\s*@(reboot|yearly|annually|monthly|weekly|daily|hourly)\s+(\S.*)$`)
	cronFldRE  = regexp.MustCompile(`^(\*|[0-9]+(-[0-9]+)?|[a-z]{3})(/[0-9]+)?(,(\*|[0-9]+(-[0-9]+)?|[a-z]{3})(/[0-9]+)?)*$`)
)

// looksLikeCron reports whether line is a crontab entry.
func looksLikeCron(line string) bool {
	if cronAtRE.MatchString(line) {
		return true
	}
	m := cronTimeRE.FindStringSubmatch(line)
	if m == nil {
		return false
	}
	for _, f := range strings.Fields(m[1]) {
		if !cronFldRE.MatchString(strings.ToLower(f)) {
			return false
		}
	}
	return true
}

// checkCron checks crontab lines: five time fields (or an @ keyword) and a
// command that passes checkCommandLine.
func checkCron(t tb, text string) {
	t.Helper()
	n := 0
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") || assignRE.MatchString(l) {
			continue
		}
		n++
		if !looksLikeCron(l) {
			t.Errorf("not a crontab line (five time fields and a command): %q", l)
			continue
		}
		cmd := ""
		if m := cronAtRE.FindStringSubmatch(l); m != nil {
			cmd = m[2]
		} else {
			cmd = cronTimeRE.FindStringSubmatch(l)[2]
		}
		checkCommandLine(t, cmd)
	}
	if n == 0 {
		t.Errorf("crontab example without an entry:\n%s", text)
	}
}

var execRE = regexp.MustCompile(`(?m)^(Exec[A-Za-z]*)=[-@:+!]*(\S+)(.*)$`)

// checkUnit checks a systemd user unit: systemd-analyze verify --user
// accepts it without a word of complaint (with gofetchmail's Exec lines
// pointing at the built binary, and man:gofetchmail(1) found in docs/), after
// a check that it has the sections and an ExecStart. Without
// systemd-analyze (package systemd, which scripts/test deps installs) the
// test skips after that check, saying so; in CI (CI set) it fails. The
// gofetchmail command lines pass checkGofetchmail.
func checkUnit(t tb, name, text string) {
	t.Helper()
	checkUnitAs(t, name, text, true)
}

// checkUnitAs is checkUnit for a user unit (user) or a system unit.
func checkUnitAs(t tb, name, text string, user bool) {
	t.Helper()
	bin := binary(t)
	for _, m := range execRE.FindAllStringSubmatch(text, -1) {
		if filepath.Base(m[2]) == "gofetchmail" {
			checkCommandLine(t, "gofetchmail"+m[3])
		}
	}
	for _, want := range []string{"[Unit]", "[Service]", "[Install]", "\nExecStart="} {
		if !strings.Contains("\n"+text, want) {
			t.Errorf("unit %s lacks %s", name, strings.TrimSpace(want))
		}
	}
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Errorf("systemd-analyze is not installed in CI (scripts/test deps installs package systemd): %s is not verified", name)
			return
		}
		t.Skip("systemd-analyze not installed (apt-get install systemd; scripts/test deps does): " + name + " had only the structural check")
	}
	dir := t.TempDir()
	// Documentation=man:gofetchmail(1) is looked up with man: the page of
	// the checkout is the one make install installs.
	man1 := filepath.Join(dir, "man", "man1")
	if err := os.MkdirAll(man1, 0o755); err != nil {
		t.Fatal(err)
	}
	page, err := filepath.Abs(filepath.Join(repoRoot, "docs", "gofetchmail.1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(page, filepath.Join(man1, "gofetchmail.1")); err != nil {
		t.Fatal(err)
	}
	local := execRE.ReplaceAllStringFunc(text, func(s string) string {
		m := execRE.FindStringSubmatch(s)
		if filepath.Base(m[2]) != "gofetchmail" {
			return s
		}
		return m[1] + "=" + bin + m[3]
	})
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(local), 0o644); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	if err := os.Mkdir(run, 0o700); err != nil {
		t.Fatal(err)
	}
	args := []string{"verify", path}
	if user {
		args = []string{"verify", "--user", path}
	}
	cmd := exec.Command(sa, args...)
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_RUNTIME_DIR="+run, "MANPATH="+filepath.Join(dir, "man"))
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// tb is the part of testing.TB the checks use, so that a test can run them
// on examples that must fail.
type tb interface {
	Helper()
	Errorf(format string, args ...any)
	Fatal(args ...any)
	Skip(args ...any)
	Log(args ...any)
	TempDir() string
}

// checkDumpSchema compares the --configdump schema in docs/configdump.md
// with a real dump of an rc file that sets every optional key: each key the
// dump has is documented, and each documented key is in the dump.
func checkDumpSchema(t tb, text string) {
	t.Helper()
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile(`(\|?)"([a-z0-9_]+)"\s*[:,]`).FindAllStringSubmatch(text, -1) {
		if m[1] == "" { // "reject"|"accept", is a value
			documented[m[2]] = true
		}
	}
	dump := checkRC(t, `poll pop.example.org proto pop3 sshtunnel "joe@gw"
  user joe there is joe here password secret maildir "~/Maildir" tokencommand "tok"
  user ann there is ann here mbox "/var/mail/ann" passwordfile "/p"
  user bob there is bob here oauthprovider google oauthauthurl "https://a/a" oauthdeviceurl "https://a/d"
    oauthtokenurl "https://a/t" oauthscope "s" oauthclientid "c" oauthclientsecret "x"
`)
	actual := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch c := v.(type) {
		case map[string]any:
			for k, x := range c {
				actual[k] = true
				walk(x)
			}
		case []any:
			for _, x := range c {
				if _, ok := x.(map[string]any); ok {
					walk(x)
				}
			}
		}
	}
	walk(dump)
	for k := range actual {
		if !documented[k] {
			t.Errorf("--configdump has key %q, which the schema does not show", k)
		}
	}
	for k := range documented {
		if !actual[k] {
			t.Errorf("the schema shows key %q, which --configdump does not have", k)
		}
	}
}

package main

import (
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// --help reads like fetchmail's: grouped, one line per option with its
// aliases, no pflag noise ("[=true|false]", "(default -1)"), and no
// option left out.
func TestHelpReadsLikeFetchmail(t *testing.T) {
	r := runBinary(t, t.TempDir(), "--help")
	if r.code != 0 {
		t.Errorf("exit %d", r.code)
	}
	out := r.stdout
	for _, bad := range []string{"[=true|false]", "(default", "[=", "(gofetchmail extension)"} {
		if strings.Contains(out, bad) {
			t.Errorf("--help shows %q", bad)
		}
	}
	for _, h := range []string{"\nGeneral:\n", "\nServer: TLS:\n", "\nUser: delivery:\n", "\ngofetchmail extensions:\n"} {
		if !strings.Contains(out, h) {
			t.Errorf("--help lacks the heading %q", strings.TrimSpace(h))
		}
	}
	// Every subcommand run() dispatches is named in the usage lines.
	src, err := os.ReadFile("run.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`args\[0\] == "([a-z0-9]+)"`).FindAllStringSubmatch(string(src), -1) {
		if !strings.Contains(out, "gofetchmail "+m[1]+" ") {
			t.Errorf("--help does not name the subcommand %q", m[1])
		}
	}
	newFlags(io.Discard).fs.VisitAll(func(fl *pflag.Flag) {
		if !strings.Contains(out, "--"+fl.Name+" ") && !strings.Contains(out, "--"+fl.Name+",") && !strings.Contains(out, "--"+fl.Name+"\n") {
			t.Errorf("--help does not list --%s", fl.Name)
		}
	})
	if !strings.Contains(out, "  -d, --daemon N  ") || !strings.Contains(out, "  -p, --protocol, --proto PROTO  ") {
		t.Errorf("options are not shown with their arguments and aliases:\n%s", out)
	}
}

func TestVersionLine(t *testing.T) {
	rev := "0123456789abcdef0123456789abcdef01234567"
	vcs := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: rev}, {Key: "vcs.time", Value: "2026-12-07T13:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	for _, c := range []struct {
		release, commit string
		bi              *debug.BuildInfo
		want, not       string
	}{
		{defaultVersion, "", vcs, "release 0.1.0-dev (go", ""},
		{defaultVersion, "", vcs, ", commit " + rev + " modified of 2026-12-07T13:00:00Z)", ""},
		{"1.2.0", "feedface", vcs, "release 1.2.0 (go", ""},
		{"1.2.0", "feedface", vcs, "commit feedface modified", rev},
		{defaultVersion, "", &debug.BuildInfo{Main: debug.Module{Version: "v1.3.1"}}, "release 1.3.1 (go", "commit"},
		{defaultVersion, "", nil, "release 0.1.0-dev (go", "commit"},
	} {
		got := versionLine(c.release, c.commit, c.bi)
		if !strings.Contains(got, c.want) || (c.not != "" && strings.Contains(got, c.not)) || strings.Contains(got, "unknown") {
			t.Errorf("versionLine(%q, %q) = %q, want %q and not %q", c.release, c.commit, got, c.want, c.not)
		}
	}
}

// A user's "go build" in a checkout: -V names the commit Go stamped (not
// "commit unknown"), and the summary shows sslfingerprint and sslcertfile
// as fetchmail's -V does, never the password.
func TestVersionOfCheckoutBuild(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("no git")
	}
	if testing.Short() {
		t.Skip("builds a checkout")
	}
	src := t.TempDir()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	copyTree(t, root, src)
	sh := func(dir string, env []string, name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	// A repository of its own: GIT_DIR is named, so that no git command
	// can reach the checkout the test runs in.
	sh(src, nil, git, "init", "-q", src)
	if fi, err := os.Lstat(filepath.Join(src, ".git")); err != nil || !fi.IsDir() {
		t.Fatalf("git init made no .git directory in %s: %v", src, err)
	}
	id := []string{"GIT_DIR=" + filepath.Join(src, ".git"), "GIT_WORK_TREE=" + src, "GIT_CEILING_DIRECTORIES=" + filepath.Dir(src),
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org"}
	sh(src, id, git, "add", "-A")
	sh(src, id, git, "commit", "-q", "-m", "x")
	head := sh(src, id, git, "rev-parse", "HEAD")
	bin := filepath.Join(t.TempDir(), "gofetchmail")
	sh(src, []string{"GOFLAGS=-buildvcs=true"}, "go", "build", "-o", bin, "./cmd/gofetchmail")
	home := t.TempDir()
	rc := filepath.Join(home, "rc")
	os.WriteFile(rc, []byte(`poll mail.example.org proto pop3 user joe password S3cretPW ssl sslfingerprint "SHA256:`+strings.Repeat("AB:", 31)+`AB" sslcertfile /etc/mail-ca.pem`+"\n"), 0o600)
	cmd := exec.Command(bin, "-V", "-f", rc)
	cmd.Env = []string{"HOME=" + home, "FETCHMAILHOME=" + home}
	outb, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("-V: %v\n%s", err, outb)
	}
	out := string(outb)
	for _, want := range []string{"commit " + head, "SSL key fingerprint (checked against the server key): SHA256:AB:", "SSL trusted certificate file: /etc/mail-ca.pem"} {
		if !strings.Contains(out, want) {
			t.Errorf("-V lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "unknown") || strings.Contains(out, "S3cretPW") || strings.Contains(out, "modified") {
		t.Errorf("-V:\n%s", out)
	}
}

// copyTree copies the source tree at from to to, without any .git (a
// directory, or the file of a git worktree) and bin, keeping file modes.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.Name() == ".git" || rel == "bin" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

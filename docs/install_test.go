package docs

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// make install DESTDIR=... puts the binary, the man page, the completions,
// the systemd user unit and the system-wide template unit where PREFIX says; the installed binary reports
// its version and commit, the installed page renders, and make uninstall
// takes it all away again.
func TestMakeInstall(t *testing.T) {
	mk, err := exec.LookPath("make")
	if err != nil {
		t.Skip("make not installed (scripts/test deps installs it)")
	}
	tmp := t.TempDir()
	dest := filepath.Join(tmp, "dest")
	vars := []string{"-C", repoRoot, "DESTDIR=" + dest, "PREFIX=/usr", "BIN=" + filepath.Join(tmp, "build", "gofetchmail")}
	if out, err := exec.Command(mk, append(vars, "install")...).CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	files := map[string]os.FileMode{
		"usr/bin/gofetchmail":                               0o755,
		"usr/share/man/man1/gofetchmail.1":                  0o644,
		"usr/share/bash-completion/completions/gofetchmail": 0o644,
		"usr/share/zsh/site-functions/_gofetchmail":         0o644,
		"usr/lib/systemd/user/gofetchmail.service":          0o644,
		"usr/lib/systemd/system/gofetchmail@.service":       0o644,
	}
	for f, mode := range files {
		fi, err := os.Stat(filepath.Join(dest, f))
		if err != nil {
			t.Errorf("not installed: %v", err)
			continue
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", f, fi.Mode().Perm(), mode)
		}
	}

	// The binary runs and says which commit it was built from.
	bin := filepath.Join(dest, "usr/bin/gofetchmail")
	cmd := exec.Command(bin, "--version")
	cmd.Env = append(os.Environ(), "HOME="+tmp, "FETCHMAILHOME=")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gofetchmail --version: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`release (\S+) \((go\S+), commit (\S+)\)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("--version says %q", out)
	}
	if head, err := exec.Command("git", "-C", repoRoot, "rev-parse", "HEAD").Output(); err == nil {
		if want := strings.TrimSpace(string(head)); strings.TrimSuffix(m[3], "-dirty") != want {
			t.Errorf("--version names commit %s, HEAD is %s", m[3], want)
		}
	} else if m[3] != "unknown" {
		t.Errorf("no git checkout, yet --version names commit %s", m[3])
	}

	// The completions are the binary's own and valid shell.
	bash := filepath.Join(dest, "usr/share/bash-completion/completions/gofetchmail")
	if out, err := exec.Command("bash", "-n", bash).CombinedOutput(); err != nil {
		t.Errorf("bash -n %s: %v\n%s", bash, err, out)
	}
	for _, f := range []string{bash, filepath.Join(dest, "usr/share/zsh/site-functions/_gofetchmail")} {
		if b, err := os.ReadFile(f); err == nil && !strings.Contains(string(b), "--maildir") {
			t.Errorf("%s does not complete --maildir", f)
		}
	}

	// The units run the installed binary, and systemd accepts them so.
	for unit, user := range map[string]bool{"usr/lib/systemd/user/gofetchmail.service": true, "usr/lib/systemd/system/gofetchmail@.service": false} {
		if b, err := os.ReadFile(filepath.Join(dest, unit)); err == nil {
			if !strings.Contains(string(b), "\nExecStart=/usr/bin/gofetchmail --nodetach -d 300\n") {
				t.Errorf("installed unit %s does not start /usr/bin/gofetchmail:\n%s", unit, b)
			}
			t.Run(filepath.Base(unit), func(t *testing.T) { checkUnitAs(t, filepath.Base(unit), string(b), user) })
		}
	}

	// man finds the page under the installed tree, by name.
	if _, err := exec.LookPath("man"); err == nil {
		page := renderMan(t, "-M", filepath.Join(dest, "usr/share/man"), "gofetchmail")
		if !strings.Contains(page, "SYNOPSIS") {
			t.Errorf("man -M ... gofetchmail:\n%s", page)
		}
	}

	// The other targets exist, and PREFIX defaults to /usr/local.
	out, err = exec.Command(mk, "-n", "-C", repoRoot, "DESTDIR=/staging", "all", "build", "test", "demo", "clean", "install").CombinedOutput()
	if err != nil {
		t.Errorf("make -n all build test demo clean install: %v\n%s", err, out)
	}
	for _, want := range []string{"scripts/test", "./cmd/gofetchmail demo", "/staging/usr/local/bin/gofetchmail", "/staging/usr/local/share/man/man1/gofetchmail.1"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("make -n ... lacks %q:\n%s", want, out)
		}
	}

	if out, err := exec.Command(mk, append(vars, "uninstall")...).CombinedOutput(); err != nil {
		t.Fatalf("make uninstall: %v\n%s", err, out)
	}
	filepath.WalkDir(dest, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("left after make uninstall: %s", p)
		}
		return nil
	})
}

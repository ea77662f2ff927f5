package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 15.1: "~" in the rc file's path options is the home directory, not
// a directory named "~" beside the rc file. The README's migration step
// writes maildir "~/Maildir"; the mail must land in $HOME/Maildir, and the
// idfile and pid file in $HOME too, while --configdump keeps fetchmail's
// spelling (fetchmail does not expand "~"; CI compares the dumps).
func TestTildeInRcPathsIsHome(t *testing.T) {
	w := newUserWorld(t)
	pop, _ := popServer(t, testMessage(1), testMessage(2))
	host, port, _ := net.SplitHostPort(pop.Addr)
	rcdir := filepath.Join(w.home, "etc")
	rc := filepath.Join(rcdir, "fetchmailrc")
	w.writeRC(t, rc, fmt.Sprintf(`set idfile "~/.fetchids"
set pidfile ~/.gofetchmail.pid
poll %s port %s proto pop3 user joe password secret sslproto '' keep maildir "~/Maildir"
poll other.invalid proto pop3 user joe password secret sslproto '' mbox "~/mbox" sslcertpath ~/certs
`, host, port))

	code, out := w.run(t, "-f", rc, host)
	if code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	got, _ := filepath.Glob(filepath.Join(w.home, "Maildir", "new", "*"))
	if len(got) != 2 {
		t.Errorf("%d messages in $HOME/Maildir/new, want 2", len(got))
	}
	for _, bad := range []string{filepath.Join(rcdir, "~"), filepath.Join(w.cwd, "~")} {
		if _, err := os.Stat(bad); err == nil {
			t.Errorf("a directory named ~ was created: %s", bad)
		}
	}
	if _, err := os.Stat(filepath.Join(w.home, ".fetchids")); err != nil {
		t.Errorf("the idfile is not $HOME/.fetchids: %v", err)
	}

	// --configdump shows what fetchmail shows for the same file.
	code, out = w.run(t, "--configdump", "-f", rc)
	if code != 0 {
		t.Fatalf("--configdump exit %d", code)
	}
	var dump struct {
		Idfile  string  `json:"idfile"`
		Pidfile *string `json:"pidfile"`
		Servers []struct {
			Users []struct {
				Maildir     *string `json:"maildir"`
				Mbox        *string `json:"mbox"`
				SSLCertpath *string `json:"sslcertpath"`
			} `json:"users"`
		} `json:"servers"`
	}
	if err := json.Unmarshal([]byte(out), &dump); err != nil {
		t.Fatalf("dump: %v\n%s", err, out)
	}
	fm := func(s string) string { return rcdir + "/" + s }
	if dump.Idfile != fm("~/.fetchids") || dump.Pidfile == nil || *dump.Pidfile != fm("~/.gofetchmail.pid") {
		t.Errorf("dump idfile %q pidfile %v, want fetchmail's %q and %q", dump.Idfile, dump.Pidfile, fm("~/.fetchids"), fm("~/.gofetchmail.pid"))
	}
	u := dump.Servers[1].Users[0]
	if *u.Mbox != fm("~/mbox") || *u.SSLCertpath != fm("~/certs") {
		t.Errorf("dump mbox %q sslcertpath %q, want fetchmail's spelling", *u.Mbox, *u.SSLCertpath)
	}

	// -V shows the paths that are used.
	_, out = w.run(t, "-V", "-f", rc)
	if !strings.Contains(out, filepath.Join(w.home, "Maildir")) || strings.Contains(out, "~") {
		t.Errorf("-V does not show the expanded maildir:\n%s", out)
	}
}

// The same on the command line: a "~" the shell did not expand (quoted, or
// after "=") is expanded too.
func TestTildeOnCommandLineIsHome(t *testing.T) {
	w := newUserWorld(t)
	pop, _ := popServer(t, testMessage(1))
	host, port, _ := net.SplitHostPort(pop.Addr)
	rc := filepath.Join(w.home, ".fetchmailrc")
	w.writeRC(t, rc, fmt.Sprintf("poll %s port %s proto pop3 user joe password secret sslproto ''\n", host, port))
	code, _ := w.run(t, "-f", "~/.fetchmailrc", "--idfile=~/ids", "--pidfile=~/pid", "--maildir=~/Mail", "--keep")
	if code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	if got, _ := filepath.Glob(filepath.Join(w.home, "Mail", "new", "*")); len(got) != 1 {
		t.Errorf("%d messages in $HOME/Mail/new, want 1", len(got))
	}
	if _, err := os.Stat(filepath.Join(w.home, "ids")); err != nil {
		t.Errorf("the idfile is not $HOME/ids: %v", err)
	}
	if _, err := os.Stat(filepath.Join(w.cwd, "~")); err == nil {
		t.Error(`a directory named "~" was created in the working directory`)
	}
}

// A plugin command is run without a shell (split on whitespace, as
// fetchmail does), so "~" in its words is expanded by gofetchmail.
func TestTildeInPluginCommand(t *testing.T) {
	w := newUserWorld(t)
	bin := filepath.Join(w.home, "bin")
	os.MkdirAll(bin, 0o755)
	if err := os.WriteFile(filepath.Join(bin, "plug"), []byte("#!/bin/sh\necho \"$@\" > \"$HOME/plugin-ran\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	w.writeRC(t, filepath.Join(w.home, ".fetchmailrc"), `set pidfile "~/run.pid"
poll mail.example.org proto pop3 plugin "~/bin/plug %h ~/arg" user joe password secret sslproto ''
`)
	w.run(t)
	got, err := os.ReadFile(filepath.Join(w.home, "plugin-ran"))
	if err != nil {
		t.Fatalf("the plugin ~/bin/plug did not run: %v", err)
	}
	if want := "mail.example.org " + w.home + "/arg\n"; string(got) != want {
		t.Errorf("plugin arguments %q, want %q", got, want)
	}
}

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The bash script completes option prefixes and file names after file
// options, from the real flag definitions.
func TestBashCompletion(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	var out bytes.Buffer
	if code := run([]string{"completion", "bash"}, &out, &out); code != 0 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "completion.bash")
	os.WriteFile(script, out.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "myrc"), nil, 0o600)
	complete := func(words ...string) string {
		cmd := exec.Command("bash", "-c", `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($#-1)); _gofetchmail; echo "${COMPREPLY[*]}"`, "x", script)
		cmd.Args = append(cmd.Args, words...)
		cmd.Dir = dir
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, b)
		}
		return strings.TrimSpace(string(b))
	}
	if got := complete("gofetchmail", "--maild"); got != "--maildir" {
		t.Errorf("--maild completes to %q", got)
	}
	if got := complete("gofetchmail", "--fetchl"); !strings.Contains(got, "--fetchlimit") {
		t.Errorf("--fetchl completes to %q", got)
	}
	if got := complete("gofetchmail", "-f", "my"); got != "myrc" {
		t.Errorf("-f my completes to %q, want the file", got)
	}
	if got := complete("gofetchmail", "de"); got != "demo" {
		t.Errorf("de completes to %q", got)
	}
	if got := complete("gofetchmail", "oa"); got != "oauth2" {
		t.Errorf("oa completes to %q", got)
	}
	if got := complete("gofetchmail", "do"); got != "doctor" {
		t.Errorf("do completes to %q", got)
	}
}

func TestZshCompletion(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"completion", "zsh"}, &out, &out); code != 0 {
		t.Fatalf("exit %d", code)
	}
	s := out.String()
	for _, want := range []string{"#compdef gofetchmail", "'--maildir[", ":maildir:_files'", "'-k[", "'--keep[", "(demo completion oauth2 doctor)'"} {
		if !strings.Contains(s, want) {
			t.Errorf("zsh script lacks %q", want)
		}
	}
	if zsh, err := exec.LookPath("zsh"); err == nil {
		if b, err := exec.Command(zsh, "-n", "-c", s).CombinedOutput(); err != nil {
			t.Errorf("zsh -n: %v\n%s", err, b)
		}
	}
}

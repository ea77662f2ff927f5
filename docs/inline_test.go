package docs

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The commands written inline in the prose (`gofetchmail -v -k`) use
// options gofetchmail has, like the code blocks.
func TestInlineCommands(t *testing.T) {
	files, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	span := regexp.MustCompile("`(gofetchmail -[^`]*)`")
	n := 0
	for _, f := range append([]string{"../README.md"}, files...) {
		doc, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range span.FindAllStringSubmatch(string(doc), -1) {
			n++
			t.Run(f+": "+m[1], func(t *testing.T) { checkCommandLine(t, m[1]) })
		}
	}
	if n == 0 {
		t.Error("no inline gofetchmail command found; is the pattern still right?")
	}
}

// The man page's examples work: the command lines of EXAMPLES (and the
// synopsis' completion example) run with options gofetchmail has, and the
// rc text between .nf and .fi parses.
func TestManExamples(t *testing.T) {
	b, err := os.ReadFile("gofetchmail.1")
	if err != nil {
		t.Fatal(err)
	}
	var section string
	var nf []string
	inNF, commands, rcs := false, 0, 0
	for _, l := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(l, ".SH "):
			section = strings.Trim(l[4:], `"`)
		case l == ".nf":
			inNF, nf = true, nil
		case l == ".fi":
			inNF = false
			rcs++
			checkRC(t, strings.Join(nf, "\n")+"\n")
		case inNF:
			nf = append(nf, unroff(l))
		case section == "EXAMPLES" && strings.HasPrefix(l, ".B gofetchmail"):
			commands++
			checkCommandLine(t, unroff(strings.TrimPrefix(l, ".B ")))
		}
	}
	if commands < 3 || rcs < 1 {
		t.Errorf("found %d example commands and %d rc examples in the man page; the test expects at least 3 and 1", commands, rcs)
	}
}

// unroff turns roff text into what the reader sees: escapes resolved, font
// changes dropped.
func unroff(s string) string {
	return strings.NewReplacer(`\-`, "-", `\(dq`, `"`, `\fB`, "", `\fI`, "", `\fR`, "", `\fP`, "", `\e`, `\`, `\&`, "").Replace(s)
}

// The man page names every long option gofetchmail has, and no other.
func TestManOptions(t *testing.T) {
	b, err := os.ReadFile("gofetchmail.1")
	if err != nil {
		t.Fatal(err)
	}
	opts := map[string]bool{}
	for name := range longOptions(t) {
		opts[name] = true
	}
	// and those of the oauth2 login subcommand
	out, err := exec.Command(binary(t), "oauth2", "login", "--help").Output()
	if err != nil {
		t.Errorf("gofetchmail oauth2 login --help: %v", err)
	}
	for _, m := range regexp.MustCompile(`(?m)^\s+(?:-\S, )?--([a-z0-9-]+)`).FindAllStringSubmatch(string(out), -1) {
		opts[m[1]] = true
	}
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`\\-\\-([a-z0-9](?:[a-z0-9]|\\-)*)`).FindAllStringSubmatch(string(b), -1) {
		name := strings.ReplaceAll(m[1], `\-`, "-")
		if !seen[name] && !opts[name] {
			t.Errorf("the man page names --%s, which gofetchmail does not have", name)
		}
		seen[name] = true
	}
	if len(seen) < 10 {
		t.Errorf("found only %d long options in the man page", len(seen))
	}
	for name := range opts {
		if !seen[name] {
			t.Errorf("the man page does not describe --%s", name)
		}
	}
}

package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The README gives a newcomer, in this order: the two commands, what
// gofetchmail is and why, how to install it (go install and make install),
// a five-line migration and links into docs/.
func TestReadmeOutline(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	blocks := codeBlocks("README.md", readme)
	if len(blocks) == 0 || blocks[0].line > 5 ||
		!regexp.MustCompile(`^go run ./cmd/gofetchmail demo\s+#[^\n]*\nscripts/test\s+#`).MatchString(blocks[0].text) {
		t.Errorf("README does not open with the demo and test commands")
	}
	last := 0
	for _, h := range []string{"\n## Why\n", "\n## Install\n", "\n## Five-line migration\n", "\n## Documentation\n"} {
		i := strings.Index(readme, h)
		if i < last {
			t.Errorf("README: %q missing or out of order", strings.TrimSpace(h))
			continue
		}
		last = i
	}
	section := func(h string) string {
		_, s, _ := strings.Cut(readme, "\n## "+h+"\n")
		s, _, _ = strings.Cut(s, "\n## ")
		return s
	}
	for _, want := range []string{"go install github.com/gofetchmail/gofetchmail/cmd/gofetchmail@latest", "make install"} {
		if !strings.Contains(section("Install"), want) {
			t.Errorf("README's Install section lacks %q", want)
		}
	}
	if steps := regexp.MustCompile(`(?m)^\d\. `).FindAllString(section("Five-line migration"), -1); len(steps) != 5 {
		t.Errorf("README's migration has %d steps, want 5", len(steps))
	}
	if !strings.Contains(section("Documentation"), "](docs/") {
		t.Error("README's Documentation section links nothing in docs/")
	}
}

// Every relative link in README.md and docs/*.md names a file that exists.
func TestLinks(t *testing.T) {
	files, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, f := range append([]string{"../README.md"}, files...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target, _, _ := strings.Cut(m[1], "#")
			if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(f), target)); err != nil {
				t.Errorf("%s: broken link %s", f, m[1])
			}
		}
	}
}

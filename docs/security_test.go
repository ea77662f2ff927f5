package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// securityTestRE finds the test named in a row of docs/security.md's
// promise tables: `package.TestName` (or `package.FuzzName`).
var securityTestRE = regexp.MustCompile("`([a-z0-9]+(?:/[a-z0-9]+)*)\\.((?:Test|Fuzz)[A-Za-z0-9_]+)`")

// TestSecurityPromisesHaveTests checks that every promise row of
// docs/security.md names a test, and that the test exists in the package it
// names: a promise whose test was renamed or removed fails here.
func TestSecurityPromisesHaveTests(t *testing.T) {
	doc, err := os.ReadFile("security.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for i, line := range strings.Split(string(doc), "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| promise") {
			continue
		}
		rows++
		cells := strings.Split(line, "|")
		last := cells[len(cells)-2]
		ms := securityTestRE.FindAllStringSubmatch(last, -1)
		if len(ms) == 0 {
			t.Errorf("security.md:%d: a promise without a test (`package.TestName` in the last column): %s", i+1, line)
			continue
		}
		for _, m := range ms {
			if !testExists(t, m[1], m[2]) {
				t.Errorf("security.md:%d: %s.%s: no such test function in %s/*_test.go", i+1, m[1], m[2], m[1])
			}
		}
	}
	if rows == 0 {
		t.Fatal("security.md has no promise rows")
	}
}

// testExists reports whether a func named name is declared in a _test.go
// file of the package directory pkg (relative to the repository root).
func testExists(t *testing.T, pkg, name string) bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, pkg, "*_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	decl := regexp.MustCompile(`(?m)^func ` + regexp.QuoteMeta(name) + `\(`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if decl.Match(b) {
			return true
		}
	}
	return false
}

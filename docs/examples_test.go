package docs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every code block of README.md and docs/*.md is an example a reader may
// copy, so every one is checked, by kind:
//
//	```fetchmailrc (or rc, or untagged text that parses as one)
//	    an rc file or a fragment of one (server or user options): it parses
//	    with rcparse, without warnings.
//	```sh / shell / console / bash (or untagged, starting with a command)
//	    command lines ("$ " prompts mark them when output follows): gofetchmail
//	    runs with the same options plus --configdump and exits 0 with nothing
//	    on stderr; demo and completion run for real; go and make name
//	    packages and targets of the checkout; other programs exist.
//	```cron (or untagged crontab lines)
//	    five time fields and a command checked as above.
//	```ini / systemd (or untagged, starting with [Unit])
//	    a unit that systemd-analyze verify accepts.
//
// The JSON schema in docs/configdump.md is compared with a real dump.
//
// A block that cannot be checked (output, a schema, a diagram) says so on
// the line before it with <!-- not-tested: why -->. Anything else fails.

// Some examples come with a claim in the prose about what they configure:
// the block containing key, once parsed, has these --configdump values.
var rcClaims = []struct {
	file, key string
	want      map[string]string // dotted JSON path -> JSON value
}{
	{"README.md", "preconnect", map[string]string{
		"servers.0.pollname":           `"localhost"`,
		"servers.0.port":               `"11110"`,
		"servers.0.users.0.preconnect": `"ssh -C -f msingh@popserver -L 11110:popserver:110 sleep 5"`,
	}},
	{"docs/ssh-transport.md", "sshtunnel", map[string]string{
		"servers.0.pollname":           `"popserver"`,
		"servers.0.sshtunnel":          `"msingh@popserver"`,
		"servers.0.users.0.remotename": `"msingh"`,
		"servers.0.users.0.localnames": `["manish"]`,
	}},
	{"docs/ssh-transport.md", "preconnect", map[string]string{
		"servers.0.port":               `"11110"`,
		"servers.0.users.0.remotename": `"msingh"`,
		"servers.0.users.0.localnames": `["manish"]`,
		"servers.0.users.0.rewrite":    `false`,
		"servers.0.users.0.preconnect": `"ssh -C -f msingh@popserver -L 11110:popserver:110 sleep 5"`,
	}},
}

func TestExamples(t *testing.T) {
	files, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append([]string{"../README.md"}, files...)
	claimed := make([]bool, len(rcClaims))
	for _, f := range files {
		doc, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(filepath.ToSlash(filepath.Join("docs", f)), "docs/../")
		for _, b := range codeBlocks(name, string(doc)) {
			for i, c := range rcClaims {
				if c.file == b.file && strings.Contains(b.text, c.key) && b.notTested == "" {
					claimed[i] = true
				}
			}
			t.Run(b.where(), func(t *testing.T) {
				if b.notTested != "" {
					t.Skipf("not tested: %s", b.notTested)
				}
				kind := classify(b)
				if b.file == "docs/configdump.md" && strings.HasPrefix(b.text, "{") {
					kind = "configdump schema"
				}
				switch kind {
				case "configdump schema":
					checkDumpSchema(t, b.text)
				case "rc":
					dump := checkRC(t, b.text)
					for _, c := range rcClaims {
						if c.file == b.file && strings.Contains(b.text, c.key) && dump != nil {
							checkClaims(t, dump, c.want)
						}
					}
				case "shell":
					checkShell(t, b.text)
				case "cron":
					checkCron(t, b.text)
				case "unit":
					checkUnit(t, "example.service", b.text)
				default:
					t.Errorf("%s: a code block the test cannot check (%s); make it an rc file, shell, cron or unit example, or say why not with <!-- not-tested: why --> on the line before it:\n%s", b.where(), kind, b.text)
				}
			})
		}
	}
	for i, c := range rcClaims {
		if !claimed[i] {
			t.Errorf("%s: no rc example containing %q, which rcClaims checks", c.file, c.key)
		}
	}
}

// classify says what kind of example a block is: rc, shell, cron or unit,
// or a description of why it is none of them.
func classify(b codeBlock) string {
	switch b.info {
	case "fetchmailrc", "rc":
		return "rc"
	case "sh", "shell", "console", "bash":
		return "shell"
	case "cron", "crontab":
		return "cron"
	case "ini", "systemd":
		return "unit"
	case "":
	default:
		return "```" + b.info + " block"
	}
	first := ""
	for _, l := range strings.Split(b.text, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			first = l
			break
		}
	}
	word, _, _ := strings.Cut(strings.TrimPrefix(first, "$ "), " ")
	switch {
	case first == "":
		return "empty block"
	case strings.HasPrefix(first, "[Unit]") || strings.HasPrefix(first, "[Service]"):
		return "unit"
	case looksLikeCron(first):
		return "cron"
	case strings.HasPrefix(first, "$ "), shellPrograms[word], strings.HasPrefix(word, "scripts/"), strings.HasPrefix(word, "./"):
		return "shell"
	case parsesAsRC(b.text):
		return "rc"
	}
	return "untagged block that is not an rc file or fragment"
}

// shellPrograms start an untagged block that is a shell example.
var shellPrograms = map[string]bool{
	"gofetchmail": true, "go": true, "make": true, "man": true, "systemctl": true, "sudo": true,
	"fetchmail": true, "ssh": true, "install": true, "mkdir": true, "cp": true, "crontab": true,
}

func checkClaims(t *testing.T, dump map[string]any, want map[string]string) {
	t.Helper()
	for path, w := range want {
		v, ok := jsonPath(dump, path)
		if !ok {
			t.Errorf("--configdump has no %s; the docs say %s", path, w)
			continue
		}
		got, _ := json.Marshal(v)
		if string(got) != w {
			t.Errorf("--configdump %s = %s; the docs say %s", path, got, w)
		}
	}
}

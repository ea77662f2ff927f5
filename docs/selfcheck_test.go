package docs

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
)

// recorder collects a check's errors instead of failing the test.
type recorder struct {
	*testing.T
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatal(args ...any) {
	r.errs = append(r.errs, fmt.Sprint(args...))
	runtime.Goexit()
}

// failures runs check on a recorder in its own goroutine (Fatal ends it)
// and returns what it reported.
func failures(t *testing.T, check func(tb)) []string {
	r := &recorder{T: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(r)
	}()
	<-done
	return r.errs
}

// The checks catch the mistakes examples are checked for, and pass their
// correct forms: a test that cannot fail checks nothing.
func TestChecksCatchMistakes(t *testing.T) {
	cases := []struct {
		name      string
		bad, good func(tb)
	}{
		{"rc keyword", func(t tb) { checkRC(t, "poll pop.example.org proto pop3 user joe mbxo /var/mail/joe\n") },
			func(t tb) { checkRC(t, "poll pop.example.org proto pop3 user joe mbox /var/mail/joe\n") }},
		{"rc fragment", func(t tb) { checkRC(t, "  mda procmail -d %T\n") },
			func(t tb) { checkRC(t, "  mda \"procmail -d %T\"\n") }},
		{"unknown option", func(t tb) { checkShell(t, "gofetchmail --maildri ~/Maildir\n") },
			func(t tb) { checkShell(t, "gofetchmail --maildir ~/Maildir\n") }},
		{"abbreviated option", func(t tb) { checkShell(t, "gofetchmail --maild ~/Maildir\n") },
			func(t tb) { checkShell(t, "$ gofetchmail -v --maildir ~/Maildir\ngofetchmail: some output\n") }},
		{"option value", func(t tb) { checkShell(t, "gofetchmail -d five\n") },
			func(t tb) { checkShell(t, "gofetchmail -d 300 --nodetach\n") }},
		{"subcommand", func(t tb) { checkShell(t, "gofetchmail completion fish\n") },
			func(t tb) { checkShell(t, "gofetchmail completion zsh\n") }},
		{"go package", func(t tb) { checkShell(t, "go install github.com/gofetchmail/gofetchmail/cmd/fetchmail@latest\n") },
			func(t tb) { checkShell(t, "go install github.com/gofetchmail/gofetchmail/cmd/gofetchmail@latest\n") }},
		{"go run args", func(t tb) { checkShell(t, "go run ./cmd/gofetchmail --bogus\n") },
			func(t tb) { checkShell(t, "go run ./cmd/gofetchmail -V\n") }},
		{"make target", func(t tb) { checkShell(t, "make instal DESTDIR=/tmp/x\n") },
			func(t tb) { checkShell(t, "make install DESTDIR=/tmp/x\n") }},
		{"repo file", func(t tb) { checkShell(t, "man ./docs/fetchmail.1\n") },
			func(t tb) { checkShell(t, "man ./docs/gofetchmail.1\n") }},
		{"script", func(t tb) { checkShell(t, "scripts/tests unit\n") },
			func(t tb) { checkShell(t, "scripts/test unit\n") }},
		{"cron fields", func(t tb) { checkCron(t, "*/10 * * * gofetchmail -s\n") },
			func(t tb) { checkCron(t, "*/10 * * * * gofetchmail -s || [ $? -eq 1 ]\n") }},
		{"cron command", func(t tb) { checkCron(t, "@hourly gofetchmail --sielnt\n") },
			func(t tb) { checkCron(t, "@hourly gofetchmail --silent >/dev/null 2>&1\n") }},
		{"unit", func(t tb) {
			checkUnit(t, "x.service", "[Unit]\nDescription=x\n[Service]\nExecStart=/usr/bin/gofetchmail --nodetach -d 300\nRestart=sometimes\n[Install]\nWantedBy=default.target\n")
		}, func(t tb) {
			checkUnit(t, "x.service", "[Unit]\nDescription=x\n[Service]\nExecStart=/usr/bin/gofetchmail --nodetach -d 300\nRestart=on-failure\n[Install]\nWantedBy=default.target\n")
		}},
		{"unit command", func(t tb) {
			checkUnit(t, "x.service", "[Unit]\nDescription=x\n[Service]\nExecStart=%h/go/bin/gofetchmail --no-detach\n[Install]\nWantedBy=default.target\n")
		}, func(t tb) {
			checkUnit(t, "x.service", "[Unit]\nDescription=x\n[Service]\nExecStart=%h/go/bin/gofetchmail --nodetach\n[Install]\nWantedBy=default.target\n")
		}},
		{"dump schema", func(t tb) { checkDumpSchema(t, "{\n  \"daemon\": int, \"pollname\": str\n}\n") },
			func(t tb) { checkDumpSchema(t, schemaBlock(t)) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if errs := failures(t, c.bad); len(errs) == 0 {
				t.Error("the mistake passed")
			}
			if errs := failures(t, c.good); len(errs) > 0 {
				t.Errorf("the correct form failed: %v", errs)
			}
		})
	}
}

// schemaBlock is the --configdump schema of docs/configdump.md.
func schemaBlock(t tb) string {
	doc, err := os.ReadFile("configdump.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range codeBlocks("docs/configdump.md", string(doc)) {
		if strings.HasPrefix(b.text, "{") {
			return b.text
		}
	}
	t.Fatal("docs/configdump.md has no schema block")
	return ""
}

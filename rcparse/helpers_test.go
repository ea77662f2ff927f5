package rcparse

import (
	"errors"
	"strings"
	"testing"
)

var testOpts = Options{User: "tester", Home: "/home/tester", Prog: "fetchmail"}

// parseOK parses src as /rc/dir/fetchmailrc and fails the test on error.
func parseOK(t *testing.T, src string) (*Config, []Warning) {
	t.Helper()
	cfg, warns, err := Parse("/rc/dir/fetchmailrc", []byte(src), testOpts)
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	return cfg, warns
}

// parseErr parses src, requires a *SyntaxError and returns its text.
func parseErr(t *testing.T, src string) string {
	t.Helper()
	_, _, err := Parse("/rc/dir/fetchmailrc", []byte(src), testOpts)
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("Parse(%q) = %v, want a *SyntaxError", src, err)
	}
	return err.Error()
}

func firstUser(t *testing.T, cfg *Config) (*Server, *User) {
	t.Helper()
	if len(cfg.Servers) == 0 || len(cfg.Servers[0].Users) == 0 {
		t.Fatalf("no server/user in %+v", cfg)
	}
	return cfg.Servers[0], cfg.Servers[0].Users[0]
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func names(u *User) string {
	var out []string
	for _, n := range u.Localnames {
		switch {
		case n.Wildcard:
			out = append(out, "*")
		case n.Pair:
			out = append(out, n.Remote+"="+n.Local)
		default:
			out = append(out, n.Local)
		}
	}
	return strings.Join(out, ",")
}

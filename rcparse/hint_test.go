package rcparse

import (
	"errors"
	"strings"
	"testing"
)

// A misspelt keyword gets a hint beside fetchmail's message, which stays
// fetchmail's exact text (the differential compares Error with fetchmail).
func TestSyntaxErrorHint(t *testing.T) {
	cases := []struct {
		src, err, hint string
	}{
		{"poll localhost proto pop3 user a pasword b\n",
			"gofetchmail:/x/rc:2: syntax error at end of input",
			`gofetchmail:/x/rc:1: "pasword": did you mean "password"?`},
		{"poll mail.example.org protocl pop3\n",
			"gofetchmail:/x/rc:1: syntax error at protocl",
			`gofetchmail:/x/rc:1: "protocl": did you mean "protocol"?`},
		{"poll x proto pop3\n  user a password b sslcertck\n  sslfingreprint \"AA\"\n",
			"gofetchmail:/x/rc:3: syntax error at sslfingreprint",
			`gofetchmail:/x/rc:3: "sslfingreprint": did you mean "sslfingerprint"?`},
		// Nothing near a keyword: no hint.
		{"poll x proto pop3 user a zzzzzz b\n", "gofetchmail:/x/rc:2: syntax error at end of input", ""},
	}
	for _, c := range cases {
		_, _, err := Parse("/x/rc", []byte(c.src), Options{User: "u", Home: "/x"})
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Fatalf("%q: %v, want a syntax error", c.src, err)
		}
		if se.Error() != c.err {
			t.Errorf("%q: Error() = %q, want fetchmail's %q", c.src, se.Error(), c.err)
		}
		if got := se.HintText(); got != c.hint {
			t.Errorf("%q: hint %q, want %q", c.src, got, c.hint)
		}
	}
}

func TestNearestKeyword(t *testing.T) {
	for w, want := range map[string]string{
		"pasword": "password", "passwrod": "password", "sll": "ssl", "flsuh": "flush",
		"keep": "", "localhost": "", "mail.example.org": "", "ab": "",
	} {
		if got := nearestKeyword(w); got != want {
			t.Errorf("nearestKeyword(%q) = %q, want %q", w, got, want)
		}
	}
	if strings.Contains(strings.Join(hintWords(), " "), "POP3") {
		t.Error("upper-case duplicates among the hint words")
	}
}

// The hint names the word that derailed the parse, never a later word
// (which may be the password that followed a misspelt "password").
func TestSyntaxErrorHintNotThePassword(t *testing.T) {
	_, _, err := Parse("/x/rc", []byte("poll x proto pop3 user a pasword flsuh\n"), Options{User: "u", Home: "/x"})
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("%v, want a syntax error", err)
	}
	if h := se.HintText(); strings.Contains(h, "flsuh") || !strings.Contains(h, `"pasword"`) {
		t.Errorf("hint %q", h)
	}
}

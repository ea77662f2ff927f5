package pop3

import (
	"errors"
	"testing"
)

func TestParseReply(t *testing.T) {
	cases := []struct {
		line string
		want reply
		bad  bool
	}{
		{line: "+OK", want: reply{ok: true}},
		{line: "+OK 2 320", want: reply{ok: true, text: "2 320"}},
		{line: "+ok lower case", want: reply{ok: true, text: "lower case"}},
		{line: "-ERR", want: reply{}},
		{line: "-ERR no such message", want: reply{text: "no such message"}},
		{line: "-ERR [AUTH] invalid credentials", want: reply{code: "AUTH", text: "invalid credentials"}},
		{line: "-ERR [in-use] locked", want: reply{code: "IN-USE", text: "locked"}},
		{line: "-ERR [SYS/TEMP] try later", want: reply{code: "SYS/TEMP", text: "try later"}},
		{line: "-ERR [LOGIN-DELAY]", want: reply{code: "LOGIN-DELAY"}},
		{line: "-ERR [not a code] text", want: reply{text: "[not a code] text"}},
		{line: "-ERR [] empty", want: reply{text: "[] empty"}},
		{line: "-ERR [unterminated", want: reply{text: "[unterminated"}},
		{line: "+ ", want: reply{cont: true}},
		{line: "+ Y2hhbGxlbmdl", want: reply{cont: true, text: "Y2hhbGxlbmdl"}},
		{line: "+", want: reply{cont: true}},
		{line: "", bad: true},
		{line: "220 smtp.example.com ESMTP", bad: true},
		{line: "* OK IMAP4rev1", bad: true},
		{line: "OK", bad: true},
		{line: "+O", bad: true},
	}
	for _, c := range cases {
		got, err := parseReply([]byte(c.line))
		if c.bad {
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Errorf("parseReply(%q) err = %v, want *ProtocolError", c.line, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("parseReply(%q) = %+v, %v; want %+v", c.line, got, err, c.want)
		}
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{Command: "PASS", Code: "AUTH", Text: "invalid credentials"}
	if got := e.Error(); got != "pop3: PASS: -ERR [AUTH] invalid credentials" {
		t.Errorf("Error() = %q", got)
	}
	e = &Error{Command: "RETR", Text: "no such message"}
	if got := e.Error(); got != "pop3: RETR: -ERR no such message" {
		t.Errorf("Error() = %q", got)
	}
}

func TestErrorClasses(t *testing.T) {
	cases := []struct {
		err         error
		auth, inUse bool
	}{
		{&Error{Command: "PASS", Code: "AUTH"}, true, false},
		{&Error{Command: "PASS"}, true, false},
		{&Error{Command: "USER"}, true, false},
		{&Error{Command: "APOP"}, true, false},
		{&Error{Command: "PASS", Code: "IN-USE"}, false, true},
		{&Error{Command: "PASS", Code: "LOGIN-DELAY"}, false, true},
		{&Error{Command: "PASS", Code: "SYS/TEMP"}, false, false},
		{&Error{Command: "RETR"}, false, false},
		{&Error{Command: "STAT", Code: "AUTH"}, true, false},
		{errors.New("other"), false, false},
	}
	for _, c := range cases {
		if got := IsAuthError(c.err); got != c.auth {
			t.Errorf("IsAuthError(%v) = %v", c.err, got)
		}
		if got := IsInUse(c.err); got != c.inUse {
			t.Errorf("IsInUse(%v) = %v", c.err, got)
		}
	}
}

// FuzzReply checks the status-line parser on arbitrary lines: no panic,
// every line is classified exactly one way, codes are well formed.
func FuzzReply(f *testing.F) {
	for _, s := range []string{"+OK", "-ERR [AUTH] x", "+ abc", "-ERR [", "-ERR []]", "garbage", "+OK\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := parseReply(line)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T, want *ProtocolError", err)
			}
			return
		}
		if r.ok && r.cont {
			t.Fatalf("reply both +OK and continuation: %+v", r)
		}
		if r.code != "" && (r.ok || r.cont) {
			t.Fatalf("response code on a non -ERR reply: %+v", r)
		}
		for _, c := range []byte(r.code) {
			if c <= ' ' || c >= 0x7f || c == '[' || c == ']' {
				t.Fatalf("bad byte %q in code %q", c, r.code)
			}
		}
	})
}

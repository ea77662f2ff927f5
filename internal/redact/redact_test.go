package redact

import (
	"encoding/base64"
	"strings"
	"testing"
)

// TestScrubForms: every form a login takes on the wire is masked in server
// text, alone or inside a longer base64 string.
func TestScrubForms(t *testing.T) {
	const user, pw = "joe", `Pass w0rd!"\x`
	var s Set
	s.Secret(pw)
	plain := []byte("\x00" + user + "\x00" + pw)
	s.Response(plain)
	b64 := func(x string) string { return base64.StdEncoding.EncodeToString([]byte(x)) }
	for _, echo := range []string{
		pw,
		`"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(pw) + `"`,
		b64(pw),
		base64.StdEncoding.EncodeToString(plain),
		"^@joe^@" + pw,
		b64("user=" + user + "\x01auth=Bearer " + pw + "\x01\x01"),                 // the token inside XOAUTH2
		b64("n,a=joe,\x01host=h\x01port=1\x01auth=Bearer " + pw + "\x01\x01"),      // OAUTHBEARER
		b64("n,a=joe,\x01host=h\x01port=1\x01auth=Bearer " + pw + "\x01\x01")[:64], // cut after the token
	} {
		got := s.Scrub("-ERR you sent " + echo + " which is wrong")
		if strings.Contains(got, pw) || strings.Contains(got, b64(pw)) {
			t.Errorf("echo %q scrubbed to %q", echo, got)
		}
		if got == "-ERR you sent "+echo+" which is wrong" {
			t.Errorf("echo %q not scrubbed", echo)
		}
	}
	if got := s.Scrub("-ERR [AUTH] invalid credentials"); got != "-ERR [AUTH] invalid credentials" {
		t.Errorf("innocent text changed: %q", got)
	}
	var nilSet *Set
	if nilSet.Scrub("x") != "x" {
		t.Error("nil set")
	}
}

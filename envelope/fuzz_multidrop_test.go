package envelope

import (
	"strings"
	"testing"

	"github.com/gofetchmail/gofetchmail/rcparse"
)

// FuzzMultidrop feeds arbitrary header bytes to the multidrop address
// parser (envelope header, Received "for", To/Cc/Bcc/Resent-*, qvirtual,
// localdomains, mapping, the wildcard) and to the envelope-sender parser.
// Whatever the sender wrote, a recipient is the postmaster, a name the rc
// file gave, or a user part the wildcard takes (never one holding '@',
// '%', '!', a quote, a space or a control character); the envelope sender
// holds no control character and no unquoted '<', '>' or blank.
func FuzzMultidrop(f *testing.F) {
	for _, h := range []string{
		"To: Kilo <kilo@mx.example.org>, stranger@elsewhere.net\nCc: lima@mx.example.org\n",
		"To: \"victim@attacker.example\"@mx.example.org\n",
		"To: victim%attacker.example@mx.example.org, a!b@mx.example.org\n",
		"To: <@mx.example.org,@attacker.example:victim@mx.example.org>\n",
		"To: =?utf-8?q?a=40b?=@mx.example.org, a(comment)@mx.example.org\n",
		"X-Original-To: v-sales@mx.example.org\nTo: kilo@mx.example.org\n",
		"Received: from a by b for <kilo@mx.example.org>; date\n",
		"Return-Path: <$(touch${IFS}/tmp/PWNED)@evil.example>\nFrom: \"a> NOTIFY=NEVER\"@x\n",
		"Return-Path: <a\rb@evil.example>\nFrom: \"a\x00b\"@x\nTo: a\r\n b@mx.example.org\n",
	} {
		f.Add([]byte(h), false)
		f.Add([]byte(h), true)
	}
	var jobs [2]Entry
	for i, rc := range []string{
		`poll mx.example.org proto pop3 no envelope localdomains example.org qvirtual "v-" user "box" there is "sales"=kilo lima * here password x`,
		`poll mx.example.org proto pop3 envelope "X-Original-To" localdomains example.org user "box" there is kilo * here password x`,
	} {
		cfg, _, err := rcparse.Parse("t.rc", []byte("set postmaster \"pm\"\n"+rc), rcparse.Options{User: "tester", Home: f.TempDir()})
		if err != nil {
			f.Fatal(err)
		}
		jobs[i] = Entry{Config: cfg, Server: cfg.Servers[0], User: cfg.Servers[0].Users[0]}
	}
	f.Fuzz(func(t *testing.T, header []byte, envelope bool) {
		j := jobs[0]
		if envelope {
			j = jobs[1]
		}
		fields := UnfoldHeader(header)
		for _, r := range Recipients(j, fields) {
			switch r {
			case "pm", "kilo", "lima":
				continue
			}
			if !wildcardLocalOK(r) || strings.ContainsAny(r, "@%!\"'\\ \t\r\n\x00") {
				t.Fatalf("recipient %q from header %q", r, header)
			}
		}
		s := SenderOf(fields)
		if len(s) > maxEnvelopeAddr {
			t.Fatalf("sender of %d bytes", len(s))
		}
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] == 0x7f {
				t.Fatalf("sender %q holds a control character", s)
			}
		}
		if strings.ContainsAny(s, "<> ") && !strings.HasPrefix(s, `"`) {
			t.Fatalf("sender %q holds an unquoted '<', '>' or blank", s)
		}
	})
}

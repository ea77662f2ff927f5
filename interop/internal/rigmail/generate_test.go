package rigmail

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := Generate(25, 1500), Generate(25, 1500)
	if len(a) != 25 {
		t.Fatalf("got %d messages, want 25", len(a))
	}
	for i := range a {
		if a[i].Name != b[i].Name || !bytes.Equal(a[i].Data, b[i].Data) {
			t.Fatalf("message %d differs between two runs", i+1)
		}
	}
	c := Generate(25, 3000)
	if bytes.Equal(a[0].Data, c[0].Data) {
		t.Error("SIZE does not change the messages")
	}
	if len(c[0].Data) < 2500 || len(c[0].Data) > 3500 {
		t.Errorf("plain message with SIZE 3000 has %d bytes", len(c[0].Data))
	}
}

func TestGenerateCoversTheCorners(t *testing.T) {
	msgs := Generate(len(kinds), 2048)
	seen := map[string]bool{}
	bodies := map[string]bool{}
	for i, m := range msgs {
		if want := kinds[i].name; m.Kind != want {
			t.Errorf("message %d is %q, want %q", i+1, m.Kind, want)
		}
		seen[m.Kind] = true
		if bodies[string(m.Data)] {
			t.Errorf("message %d is not unique", i+1)
		}
		bodies[string(m.Data)] = true
		if bytes.Contains(m.Data, []byte("\r")) {
			t.Errorf("message %d contains CR; the Maildir stores LF", i+1)
		}
	}
	byKind := func(k string) []byte {
		for _, m := range msgs {
			if m.Kind == k {
				return m.Data
			}
		}
		t.Fatalf("no %s message", k)
		return nil
	}
	lines := func(k string) []string { return strings.Split(string(byKind(k)), "\n") }
	has := func(k string, ok func(string) bool) bool {
		for _, l := range lines(k) {
			if ok(l) {
				return true
			}
		}
		return false
	}
	if !has("dot-lines", func(l string) bool { return l == "." }) || !has("dot-lines", func(l string) bool { return l == ".." }) {
		t.Error(`dot-lines lacks a "." or ".." line`)
	}
	for _, n := range []int{9000, 20000} {
		if !has("long-lines", func(l string) bool { return len(l) == n }) {
			t.Errorf("long-lines lacks a line of %d bytes", n)
		}
	}
	if !has("from-lines", func(l string) bool { return strings.HasPrefix(l, "From ") }) {
		t.Error(`from-lines lacks a "From " line`)
	}
	if !has("folded-headers", func(l string) bool { return strings.HasPrefix(l, "\t<ref-") }) {
		t.Error("folded-headers has no folded header")
	}
	if utf8.Valid(byKind("latin1-8bit")) {
		t.Error("latin1-8bit is valid UTF-8")
	}
	if u := byKind("utf8-8bit"); !utf8.Valid(u) || !bytes.ContainsFunc(u, func(r rune) bool { return r > 127 }) {
		t.Error("utf8-8bit is not 8-bit UTF-8")
	}
	if bytes.HasSuffix(byKind("no-final-newline"), []byte("\n")) {
		t.Error("no-final-newline ends with a newline")
	}
	if !bytes.Contains(byKind("multipart-base64"), []byte("Content-Transfer-Encoding: base64\n")) {
		t.Error("multipart-base64 has no base64 part")
	}
}

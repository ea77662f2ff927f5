package envelope

import (
	"bufio"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestEnvelopeSender(t *testing.T) {
	cases := map[string]string{
		"Return-Path: <bounce@example.org>\nFrom: A <a@example.org>\n\nbody\n": "bounce@example.org",
		"From: Alice\n <alice@example.org>\nSubject: x\n\nFrom: b@c\n":         "alice@example.org",
		"Subject: none\n\nReturn-Path: <x@y>\n":                                "",
		"Return-Path: <>\nFrom: a@b.c\n\n":                                     "a@b.c",
	}
	for msg, want := range cases {
		br := bufio.NewReaderSize(strings.NewReader(msg), HeaderPeek)
		if got := Sender(br); got != want {
			t.Errorf("Sender(%q) = %q, want %q", msg, got, want)
		}
		rest, _ := io.ReadAll(br)
		if string(rest) != msg {
			t.Errorf("Sender consumed input")
		}
	}
}

// TestUnfoldHeader: one string a field, continuation lines joined by one
// space, CRs dropped, the blank line ends the header.
func TestUnfoldHeader(t *testing.T) {
	head := "From: a@b\r\nTo: c@d,\r\n\te@f\r\n  g@h\nSubject: x\n\nBody: not a field\n"
	want := []string{"From: a@b", "To: c@d, e@f g@h", "Subject: x"}
	if got := UnfoldHeader([]byte(head)); !slices.Equal(got, want) {
		t.Errorf("UnfoldHeader = %q, want %q", got, want)
	}
	if got := UnfoldHeader([]byte(" leading: x\n y\nA: b")); !slices.Equal(got, []string{" leading: x y", "A: b"}) {
		t.Errorf("a header that starts folded: %q", got)
	}
}

package envelope

import (
	"bufio"
	"io"
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

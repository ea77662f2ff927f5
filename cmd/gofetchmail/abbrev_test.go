package main

import (
	"io"
	"strings"
	"testing"
)

func TestExpandAbbrev(t *testing.T) {
	f := newFlags(io.Discard)
	for _, tc := range []struct {
		in, want  string
		ambiguous bool
	}{
		{in: "--verb", want: "--verbose"},
		{in: "--fetchl=3", want: "--fetchlimit=3"},
		{in: "--nodet", want: "--nodetach"},
		{in: "--proto", want: "--proto"},     // exact
		{in: "--protoc", want: "--protocol"}, // unique
		{in: "--fetcha", want: "--fetchall"}, // --fetchall only
		{in: "--po", want: "--po", ambiguous: true},
		{in: "--s", want: "--s", ambiguous: true},
		{in: "--nosuch", want: "--nosuch"},
		{in: "-v", want: "-v"},
		{in: "-- --verb", want: "-- --verb"},
	} {
		got, notes := expandAbbrev(f.fs, strings.Fields(tc.in))
		if strings.Join(got, " ") != tc.want {
			t.Errorf("expandAbbrev(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if (len(notes) > 0) != tc.ambiguous {
			t.Errorf("expandAbbrev(%q) notes %q, ambiguous %v", tc.in, notes, tc.ambiguous)
		}
	}
}

func TestSmtphostOnce(t *testing.T) {
	var out strings.Builder
	if code := run([]string{"-S", "a", "-S", "b", "--configdump"}, &out, io.Discard); code != 5 {
		t.Errorf("two -S: exit %d, want 5", code)
	}
}

package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// keepdays from the rc file, --keepdays over it, and -k over both: -k on the
// command line keeps everything, nothing is deleted after its days.
func TestKeepdaysOptions(t *testing.T) {
	const rc = "poll h proto pop3\n  user u password p keep keepdays 7\n"
	dir := t.TempDir()
	path := filepath.Join(dir, "rc")
	if err := os.WriteFile(path, []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want int // -1: not set
	}{
		{nil, 7},
		{[]string{"--keepdays", "3"}, 3},
		{[]string{"--keepdays", "0"}, 0},
		{[]string{"-k"}, -1},
		{[]string{"--keep"}, -1},
		{[]string{"-k", "--keepdays", "2"}, 2},
	}
	for _, c := range cases {
		f := newFlags(io.Discard)
		if err := f.fs.Parse(append([]string{"-f", path}, c.args...)); err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		cfg, code := loadConfig(path, dir, f, io.Discard)
		if cfg == nil {
			t.Fatalf("%v: exit %d", c.args, code)
		}
		u := cfg.Servers[0].Users[0]
		got := -1
		if u.Keepdays != nil {
			got = *u.Keepdays
		}
		if got != c.want {
			t.Errorf("%v: keepdays %d, want %d", c.args, got, c.want)
		}
	}
	f := newFlags(io.Discard)
	if err := f.fs.Parse([]string{"-f", path, "--keepdays", "-1"}); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if cfg, code := loadConfig(path, dir, f, &stderr); cfg != nil || code != 5 || !strings.Contains(stderr.String(), "--keepdays takes 0 or more days") {
		t.Errorf("--keepdays -1: exit %d, %q", code, stderr.String())
	}
}

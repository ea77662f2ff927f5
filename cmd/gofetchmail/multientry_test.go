package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
)

// In a run of several entries, each entry's error is logged right after
// its own poll, before the next entry's lines, and says the address and
// the cause once.
func TestMultiEntryErrorOrder(t *testing.T) {
	srv, err := pop3test.NewServer(pop3test.NewMailbox("joe", "pw", pop3test.Message{UID: "u1", Data: []byte("Subject: x\n\nhello\n")}), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	home := t.TempDir()
	_, deadPort, _ := net.SplitHostPort(dead)
	host, port, _ := net.SplitHostPort(srv.Addr)
	rc := filepath.Join(home, "rc")
	md := filepath.Join(home, "Maildir")
	src := "poll broken via 127.0.0.1 proto pop3 port " + deadPort + " user joe password pw sslproto ''\n" +
		"poll " + host + " proto pop3 port " + port + " user joe password pw sslproto '' maildir " + md + "\n"
	if err := os.WriteFile(rc, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runBinaryOut(t, home, true, "-f", rc)
	if r.code != 0 {
		t.Errorf("exit %d, want 0", r.code)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	errAt, nextAt := -1, -1
	for i, l := range lines {
		if strings.Contains(l, "joe@broken") && strings.Contains(l, "connection refused") {
			if errAt >= 0 {
				t.Errorf("the error is logged twice")
			}
			errAt = i
			want := "gofetchmail: joe@broken: connect to " + dead + ": connection refused"
			if l != want {
				t.Errorf("error line %q, want %q", l, want)
			}
		}
		if strings.Contains(l, "polling joe@"+host) {
			nextAt = i
		}
	}
	if errAt < 0 || nextAt < 0 || errAt > nextAt {
		t.Errorf("the first entry's error (line %d) is not logged before the second entry's poll (line %d)", errAt, nextAt)
	}
}

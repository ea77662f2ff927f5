package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An entry without a password takes it from ~/.netrc (machine = the poll
// name, login = the remote user), as fetchmail does, before it would fail
// with "can't find a password" (no terminal here): status 3 without the
// .netrc, 0 with it.
func TestNetrcEndToEnd(t *testing.T) {
	rig := newRig(t)
	data, err := os.ReadFile(rig.rc)
	if err != nil {
		t.Fatal(err)
	}
	rc := strings.Replace(string(data), "password foobar;", "", 1)
	if rc == string(data) {
		t.Fatal("the demo rc file has no password line to remove")
	}
	if err := os.WriteFile(rig.rc, []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := runCmd(t, "-f", rig.rc, "--maildir", rig.maildir); code != 3 || !strings.Contains(out, "can't find a password") {
		t.Fatalf("without .netrc: exit %d, want 3 and \"can't find a password\"", code)
	}
	netrc := filepath.Join(rig.home, ".netrc")
	if err := os.WriteFile(netrc, []byte("machine elsewhere login msingh password wrong\nmachine localhost\n  login msingh\n  password foobar\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out := runCmd(t, "-f", rig.rc, "--maildir", rig.maildir, "-v", "-v")
	if code != 0 {
		t.Fatalf("with .netrc: exit %d, want 0", code)
	}
	if n := len(maildirFiles(t, rig.maildir)); n != len(demoMessages) {
		t.Errorf("%d messages delivered, want %d", n, len(demoMessages))
	}
	if !strings.Contains(out, "comes from "+netrc) {
		t.Error("-v -v does not say the password came from ~/.netrc")
	}
	if strings.Contains(out, "foobar") {
		t.Error("the password appears in the output")
	}
}

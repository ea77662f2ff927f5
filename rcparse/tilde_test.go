package rcparse

import (
	"os/user"
	"strings"
	"testing"
)

// "~user" is that user's home directory; a "~name" of no user is left as
// fetchmail would take it, with a warning that names the line.
func TestTildeUserPaths(t *testing.T) {
	root, err := user.Lookup("root")
	if err != nil {
		t.Skip("no root user")
	}
	t.Setenv("HOME", "/home/me")
	src := "poll a.example proto pop3 user u password p mbox ~root/mb\n" +
		"poll b.example proto pop3 user u password p maildir \"~no-such-user-x9/M\" sslcertfile ~\n"
	cfg, warns, err := Parse("/etc/rc", []byte(src), Options{Home: "/home/me", User: "me"})
	if err != nil {
		t.Fatal(err)
	}
	if got := *cfg.Servers[0].Users[0].Mbox; got != strings.TrimSuffix(root.HomeDir, "/")+"/mb" {
		t.Errorf("~root/mb = %q, want root's home + /mb", got)
	}
	if got := *cfg.Servers[1].Users[0].Maildir; got != "/etc/~no-such-user-x9/M" {
		t.Errorf("~no-such-user-x9/M = %q, want fetchmail's /etc/~no-such-user-x9/M", got)
	}
	if got := *cfg.Servers[1].Users[0].SSLCertfile; got != "/home/me" {
		t.Errorf("~ = %q, want /home/me", got)
	}
	if len(warns) != 1 || warns[0].Line != 2 || !strings.Contains(warns[0].String(), "no-such-user-x9") {
		t.Errorf("warnings %v, want one for line 2 naming the user", warns)
	}
}

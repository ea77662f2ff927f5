package fetch

import (
	"testing"

	"github.com/gofetchmail/gofetchmail/rcparse"
)

func parseOne(t *testing.T, src string) (*rcparse.Server, *rcparse.User) {
	t.Helper()
	cfg, _, err := rcparse.Parse("t.rc", []byte(src), rcparse.Options{User: "tester", Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Servers[0], cfg.Servers[0].Users[0]
}

const seed = `defaults
user msingh is manish
no rewrite
poll localhost with protocol pop3 and port 11110:
preconnect "ssh -C -f msingh@popserver -L 11110:popserver:110 sleep 5"
password foobar;
`

func TestRouteTranslatesSeedPreconnect(t *testing.T) {
	s, u := parseOne(t, seed)
	r, err := chooseRoute(s, u, &Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.kind != "ssh" || r.host != "popserver" || r.port != 110 || r.sshTarget.Host != "popserver" || r.sshTarget.User != "msingh" || r.preconnect != "" || !r.compressed {
		t.Errorf("route %+v", r)
	}
	if !r.overSSH() || mustSTLS(u, r) {
		t.Error("STLS must not be demanded inside the SSH channel")
	}
}

func TestRouteFallsBackToShell(t *testing.T) {
	s, u := parseOne(t, seed)
	r, _ := chooseRoute(s, u, &Options{NoBuiltinSSH: true})
	if r.kind != "tcp" || r.preconnect == "" || r.host != "localhost" || r.port != 11110 {
		t.Errorf("--no-builtin-ssh route %+v", r)
	}
	if !mustSTLS(u, r) {
		t.Error("over plain TCP fetchmail's rule demands STLS")
	}
	// The forward's local port is not the poll port: not translated.
	s, u = parseOne(t, `poll localhost proto pop3 port 2110 user a password b preconnect "ssh -f h -L 11110:h:110 sleep 5"`)
	if r, _ := chooseRoute(s, u, &Options{}); r.kind != "tcp" || r.preconnect == "" {
		t.Errorf("non-matching port route %+v", r)
	}
}

func TestRouteSSHTunnelOption(t *testing.T) {
	s, u := parseOne(t, `poll pop.example.org proto pop3 sshtunnel "me@gw.example.org:2222" user a password b`)
	r, err := chooseRoute(s, u, &Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.kind != "ssh" || r.host != "pop.example.org" || r.port != 110 || r.sshTarget.Host != "gw.example.org" || r.sshTarget.Port != 2222 || r.sshTarget.User != "me" {
		t.Errorf("route %+v", r)
	}
}

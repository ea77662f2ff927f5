package fetch

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
	"github.com/gofetchmail/gofetchmail/transport/sshtest"
)

func TestRoutePluginSSH(t *testing.T) {
	cases := []struct {
		plugin string
		noSSH  bool
		kind   string
		host   string
		port   int
		exec   []string
		exempt bool // SSH reaches the mail server itself: no STLS demanded
	}{
		{"ssh -W %h:%p msingh@gw", false, "ssh", "mail.example.org", 110, nil, false},
		{"ssh -W localhost:%p msingh@gw", false, "ssh", "localhost", 110, nil, true},
		{"ssh -p 2222 gw -W 10.0.0.5:%p", false, "ssh", "10.0.0.5", 110, nil, false},
		{"ssh -l msingh gw /usr/lib/dovecot/pop3", false, "ssh", "mail.example.org", 110, []string{"/usr/lib/dovecot/pop3"}, true},
		{"nc %h %p", false, "plugin", "mail.example.org", 110, nil, false},
		{"ssh -W %h:%p gw", true, "plugin", "mail.example.org", 110, nil, false},
	}
	for _, c := range cases {
		s, u := parseOne(t, "poll mail.example.org proto pop3 auth ssh plugin \""+c.plugin+"\" user msingh password x\n")
		r, err := chooseRoute(s, u, &Options{NoBuiltinSSH: c.noSSH})
		if err != nil {
			t.Fatal(err)
		}
		if r.kind != c.kind || r.host != c.host || r.port != c.port || !reflect.DeepEqual(r.exec, c.exec) {
			t.Errorf("%q: route %+v", c.plugin, r)
		}
		if c.kind == "ssh" && (r.sshFrom != "plugin" || r.original == "") {
			t.Errorf("%q: no fallback: %+v", c.plugin, r)
		}
		if mustSTLS(u, r) == c.exempt {
			t.Errorf("%q: mustSTLS = %v: STLS is waived only when SSH reaches the mail server itself", c.plugin, !c.exempt)
		}
	}
}

// sshPluginEnv is a fake POP3 server reachable through an in-process SSH
// server, both as a -W forward (loopback targets are dialled) and as an
// exec channel serving a pre-authenticated session.
func sshPluginEnv(t *testing.T, preauth bool) (*testEnv, *sshtest.Server, string) {
	t.Helper()
	t.Setenv("SSH_AUTH_SOCK", "")
	e := newTestEnv(t, testMessages(3), &pop3test.ServerOptions{Preauth: preauth})
	signer, keyPEM, err := sshtest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sshtest.NewServer(sshtest.ServerOptions{
		AuthorizedKeys: map[string][]ssh.PublicKey{"alice": {signer.PublicKey()}},
		Exec: func(user, command string, ch io.ReadWriteCloser) int {
			a, b := net.Pipe()
			go e.srv.ServeConn(a)
			go io.Copy(b, ch)
			io.Copy(ch, b)
			return 0
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	e.opts.Home = t.TempDir()
	sshDir := filepath.Join(e.opts.Home, ".ssh")
	key := filepath.Join(sshDir, "id_test")
	os.MkdirAll(sshDir, 0o700)
	if err := os.WriteFile(key, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sshDir, "known_hosts"), []byte(srv.KnownHostsLine()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return e, srv, fmt.Sprintf("ssh -p %d -i %s alice@127.0.0.1", srv.Port(), key)
}

func TestPluginSSHInProcess(t *testing.T) {
	for _, c := range []struct {
		name, plugin, auth string
		preauth            bool
	}{
		{"stdio forward", " -W %h:%p", "", false},
		{"exec preauth", " /usr/lib/dovecot/pop3", "auth ssh", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, _, ssh := sshPluginEnv(t, c.preauth)
			host, port, _ := strings.Cut(e.srv.Addr, ":")
			// No sslproto '': STLS must not be demanded inside SSH.
			e.rejob(t, fmt.Sprintf("poll %s proto pop3 port %s timeout 5 %s plugin %q\n  user msingh there is manish here password foobar\n",
				host, port, c.auth, ssh+c.plugin))
			res := e.poll(t)
			if res.Status != StatusSuccess || res.Delivered != 3 {
				t.Fatalf("result %+v\n%s", res, e.log)
			}
			if c.preauth && (strings.Contains(e.log.String(), "POP3> USER") || strings.Contains(e.log.String(), "POP3> PASS")) {
				t.Errorf("credentials sent to a pre-authenticated session:\n%s", e.log)
			}
			if !strings.Contains(e.log.String(), "plugin ssh translated") {
				t.Errorf("route not translated:\n%s", e.log)
			}
		})
	}
}

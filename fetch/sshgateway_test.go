package fetch

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/gofetchmail/gofetchmail/imap/imaptest"
	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
	"github.com/gofetchmail/gofetchmail/rcparse"
	"github.com/gofetchmail/gofetchmail/transport/sshtest"
)

// gateway is an in-process SSH server "gw" whose direct-tcpip channels all
// lead to one mail server, recording the hosts asked for and every byte
// the client sent to the mail server on the leg after the gateway (the leg
// a hop between the SSH host and the mail server sees).
type gateway struct {
	srv   *sshtest.Server
	mu    sync.Mutex
	hosts []string
	wire  strings.Builder
}

type wireConn struct {
	net.Conn
	g *gateway
}

func (c wireConn) Write(p []byte) (int, error) {
	c.g.mu.Lock()
	c.g.wire.Write(p)
	c.g.mu.Unlock()
	return c.Conn.Write(p)
}

func (g *gateway) seen() (hosts []string, wire string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.hosts...), g.wire.String()
}

// newGateway starts the SSH server and writes home/.ssh (config naming it
// "gw", key, known_hosts). Every channel goes to mailAddr.
func newGateway(t *testing.T, home, mailAddr string) *gateway {
	t.Helper()
	t.Setenv("SSH_AUTH_SOCK", "")
	g := &gateway{}
	signer, keyPEM, err := sshtest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	g.srv, err = sshtest.NewServer(sshtest.ServerOptions{
		AuthorizedKeys: map[string][]ssh.PublicKey{"alice": {signer.PublicKey()}},
		Forward: func(host string, port int) (net.Conn, error) {
			g.mu.Lock()
			g.hosts = append(g.hosts, net.JoinHostPort(host, fmt.Sprint(port)))
			g.mu.Unlock()
			c, err := net.Dial("tcp", mailAddr)
			if err != nil {
				return nil, err
			}
			return wireConn{c, g}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.srv.Close() })
	dir := filepath.Join(home, ".ssh")
	os.MkdirAll(dir, 0o700)
	key := filepath.Join(dir, "id_gw")
	cfg := fmt.Sprintf("Host gw\n  HostName 127.0.0.1\n  Port %d\n  User alice\n  IdentityFile %s\n", g.srv.Port(), key)
	for name, data := range map[string]string{"id_gw": string(keyPEM), "config": cfg, "known_hosts": g.srv.KnownHostsLine() + "\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

// TestSSHGatewayTLSRules: behind an SSH gateway whose forward target is
// another host (sshtunnel, a translated ssh -L preconnect, an ssh -W
// plugin), STLS is used whenever offered, mandatory under sslcertck, and
// the password is never sent in clear; only a forward to the SSH host
// itself (its name or loopback) is exempt (issue 14.1).
func TestSSHGatewayTLSRules(t *testing.T) {
	cert := newTestCert(t)
	const tunnel = `sshtunnel "gw"`
	cases := []struct {
		name    string
		poll    string // poll NAME [port N] and route options
		extra   string // user options
		stls    bool   // the server offers STLS
		status  Status
		useTLS  bool   // STLS must be on the wire
		forward string // the host:port the gateway is asked for
	}{
		{"sshtunnel, STLS offered", "mail.example.org " + tunnel, "no sslcertck", true, StatusSuccess, true, "mail.example.org:110"},
		{"sshtunnel, pinned", "mail.example.org " + tunnel, `sslfingerprint "` + cert.sha256() + `"`, true, StatusSuccess, true, "mail.example.org:110"},
		{"sshtunnel, no STLS", "mail.example.org " + tunnel, "no sslcertck", false, StatusAuthFail, false, "mail.example.org:110"},
		{"sshtunnel, no STLS, sslcertck", "mail.example.org " + tunnel, "", false, StatusSocket, false, "mail.example.org:110"},
		{"ssh -L preconnect", "localhost port 11110", `no sslcertck preconnect "ssh -f gw -L 11110:mail.example.org:110 sleep 5"`, true, StatusSuccess, true, "mail.example.org:110"},
		{"ssh -L preconnect, no STLS", "localhost port 11110", `no sslcertck preconnect "ssh -f gw -L 11110:mail.example.org:110 sleep 5"`, false, StatusAuthFail, false, "mail.example.org:110"},
		{"ssh -W plugin", `mail.example.org plugin "ssh gw -W %h:%p"`, "no sslcertck", true, StatusSuccess, true, "mail.example.org:110"},
		{"ssh -W plugin, no STLS", `mail.example.org plugin "ssh gw -W %h:%p"`, "no sslcertck", false, StatusAuthFail, false, "mail.example.org:110"},
		// The exemption: the mail server is the SSH host itself.
		{"to the SSH host by name", "gw " + tunnel, "", true, StatusSuccess, false, "gw:110"},
		{"to the SSH host as localhost", "localhost " + tunnel, "", true, StatusSuccess, false, "localhost:110"},
		{"ssh -L to the SSH host", "localhost port 11110", `preconnect "ssh -f gw -L 11110:localhost:110 sleep 5"`, false, StatusSuccess, false, "localhost:110"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sopts := &pop3test.ServerOptions{}
			if c.stls {
				sopts.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert.tls}}
			}
			e := newTestEnv(t, testMessages(1), sopts)
			e.opts.Home = t.TempDir()
			g := newGateway(t, e.opts.Home, e.srv.Addr)
			src := fmt.Sprintf("poll %s proto pop3 timeout 5\n  user msingh there is manish here password foobar %s\n", c.poll, c.extra)
			cfg, _, err := rcparse.Parse("test.rc", []byte(src), rcparse.Options{User: "tester", Home: e.opts.Home})
			if err != nil {
				t.Fatal(err)
			}
			e.job = Job{Config: cfg, Server: cfg.Servers[0], User: cfg.Servers[0].Users[0]}
			e.job.User.Maildir = &e.maildir
			res := e.poll(t)
			hosts, wire := g.seen()
			if res.Status != c.status {
				t.Fatalf("status %d, want %d (%v)\n%s", res.Status, c.status, res.Err, e.log)
			}
			if len(hosts) == 0 || hosts[0] != c.forward {
				t.Errorf("gateway asked for %v, want %s", hosts, c.forward)
			}
			if strings.Contains(wire, "foobar") && c.forward == "mail.example.org:110" {
				t.Errorf("the password crossed the gateway's far leg in clear:\n%s", wire)
			}
			if got := strings.Contains(wire, "STLS\r\n"); got != c.useTLS {
				t.Errorf("STLS on the wire = %v, want %v:\n%s", got, c.useTLS, wire)
			}
			if c.status == StatusAuthFail && !errors.Is(res.Err, ErrCleartext) {
				t.Errorf("refusal %v is not ErrCleartext", res.Err)
			}
		})
	}
}

// TestSSHGatewayIMAPStartTLS is TestSSHGatewayTLSRules for IMAP: behind a
// gateway to another host STARTTLS is used when offered, and LOGIN never
// crosses the far leg in clear.
func TestSSHGatewayIMAPStartTLS(t *testing.T) {
	cert := newTestCert(t)
	for _, c := range []struct {
		name     string
		startTLS bool
		status   Status
	}{
		{"STARTTLS offered", true, StatusNoMail},
		{"no STARTTLS", false, StatusAuthFail},
	} {
		t.Run(c.name, func(t *testing.T) {
			sopts := &imaptest.Options{}
			if c.startTLS {
				sopts.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert.tls}}
			}
			e := newIMAPEnv(t, sopts, "")
			e.opts.Home = t.TempDir()
			g := newGateway(t, e.opts.Home, e.srv.Addr)
			src := "poll mail.example.org proto imap sshtunnel \"gw\" timeout 5\n  user msingh there is manish here password foobar no sslcertck\n"
			cfg, _, err := rcparse.Parse("test.rc", []byte(src), rcparse.Options{User: "tester", Home: e.opts.Home})
			if err != nil {
				t.Fatal(err)
			}
			e.job = Job{Config: cfg, Server: cfg.Servers[0], User: cfg.Servers[0].Users[0]}
			e.job.User.Maildir = &e.maildir
			res := e.poll(t)
			_, wire := g.seen()
			if res.Status != c.status {
				t.Fatalf("status %d, want %d (%v)\n%s", res.Status, c.status, res.Err, e.log)
			}
			if strings.Contains(wire, "foobar") {
				t.Errorf("the password crossed the gateway's far leg in clear:\n%s", wire)
			}
			if got := strings.Contains(wire, "STARTTLS"); got != c.startTLS {
				t.Errorf("STARTTLS on the wire = %v, want %v:\n%s", got, c.startTLS, wire)
			}
		})
	}
}

// TestShellSSHForwardElsewhere: a preconnect ssh -L run by the shell
// (--no-builtin-ssh) to a host other than the SSH host makes the loopback
// connection no exemption from the cleartext refusal; to the SSH host it
// stays one.
func TestShellSSHForwardElsewhere(t *testing.T) {
	for pre, want := range map[string]bool{
		"ssh -f gw -L 11110:mail.example.org:110 sleep 5": true,
		"ssh -f gw -L 11110:localhost:110 sleep 5":        false,
		"ssh -f gw -L 11110:gw:110 sleep 5":               false,
		"true":                                            false,
	} {
		r := &route{kind: "tcp", host: "localhost", port: 11110, preconnect: pre}
		if got := r.forwardsElsewhere(); got != want {
			t.Errorf("%q: forwardsElsewhere = %v", pre, got)
		}
	}
	for plugin, want := range map[string]bool{
		"ssh -F cfg gw -W mail.example.org:110": false,
		"ssh -F cfg gw -W localhost:110":        true,
		"ssh -F cfg gw /usr/sbin/popper":        true,
		"ssh gw -W gw:110":                      true,
		"nc mail 110":                           false,
	} {
		if got := (&route{kind: "plugin", plugin: plugin}).protectedBySSH(); got != want {
			t.Errorf("plugin %q: protectedBySSH = %v", plugin, got)
		}
	}
}

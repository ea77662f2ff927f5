package tlspolicy

import (
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/gofetchmail/gofetchmail/rcparse"
)

// addrConn is a net.Conn whose only use here is its remote address.
type addrConn struct {
	net.Conn
	remote net.Addr
}

func (c addrConn) RemoteAddr() net.Addr { return c.remote }

// Cleartext lets a password through only inside TLS, inside SSH that
// reaches the mail server, over TCP to loopback that is not an ssh -L
// forward to another host, or with sslproto ""; a refusal wraps
// ErrCleartext and names the server and the way out.
func TestCleartext(t *testing.T) {
	loop := addrConn{remote: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 110}}
	far := addrConn{remote: &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 110}}
	empty := ""
	plain := &rcparse.User{}
	cases := []struct {
		name      string
		u         *rcparse.User
		p         Path
		encrypted bool
		conn      net.Conn
		ok        bool
	}{
		{"TLS", plain, Path{Kind: "tcp"}, true, far, true},
		{"far TCP", plain, Path{Kind: "tcp"}, false, far, false},
		{"sslproto empty", &rcparse.User{SSLProto: &empty}, Path{Kind: "tcp"}, false, far, true},
		{"loopback", plain, Path{Kind: "tcp", Host: "localhost", Port: 11110}, false, loop, true},
		{"loopback forward elsewhere", plain, Path{Kind: "tcp", Host: "localhost", Port: 11110, Preconnect: "ssh -f gw -L 11110:mail.example.org:110 sleep 5"}, false, loop, false},
		{"ssh to the SSH host", plain, Path{Kind: "ssh", Host: "localhost", SSHHost: "gw"}, false, nil, true},
		{"ssh exec", plain, Path{Kind: "ssh", Host: "mail.example.org", SSHHost: "gw", Exec: true}, false, nil, true},
		{"ssh forward elsewhere", plain, Path{Kind: "ssh", Host: "mail.example.org", SSHHost: "gw"}, false, nil, false},
	}
	for _, c := range cases {
		err := Cleartext(c.u, c.p, c.encrypted, c.conn, "mail.example.org", "some way", "STARTTLS")
		if (err == nil) != c.ok {
			t.Errorf("%s: %v, want allowed %v", c.name, err, c.ok)
			continue
		}
		if err != nil && (!errors.Is(err, ErrCleartext) || !strings.Contains(err.Error(), "mail.example.org is reached some way") || !strings.Contains(err.Error(), "sslproto ''") || !strings.Contains(err.Error(), "offers no STARTTLS") || !strings.Contains(err.Error(), "sslcertck (STARTTLS)")) {
			t.Errorf("%s: refusal %q does not say what and how", c.name, err)
		}
	}
}

// MayTrySTLS and MustSTLS agree with ProtectedBySSH: SSH to the mail
// server itself needs no STLS, a forward elsewhere is treated as TCP.
func TestSTLSRulesOverSSH(t *testing.T) {
	u := &rcparse.User{SSLCertck: true}
	self := Path{Kind: "ssh", Host: "127.0.0.1", SSHHost: "gw"}
	other := Path{Kind: "ssh", Host: "mail.example.org", SSHHost: "gw"}
	if MustSTLS(u, self) || MayTrySTLS(u, self) {
		t.Error("STLS asked for inside SSH to the mail server itself")
	}
	if !MustSTLS(u, other) || !MayTrySTLS(u, other) {
		t.Error("STLS waived for an SSH forward to another host")
	}
}

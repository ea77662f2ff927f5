package sshtest

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func dial(t *testing.T, s *Server, user string, auth ssh.AuthMethod) (*ssh.Client, error) {
	t.Helper()
	return ssh.Dial("tcp", s.Addr, &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{auth},
		HostKeyCallback: ssh.FixedHostKey(s.HostKey.PublicKey()),
	})
}

func TestServerExecAndAuth(t *testing.T) {
	s, err := NewServer(ServerOptions{
		Users: map[string]string{"alice": "pw"},
		Exec: func(user, command string, ch io.ReadWriteCloser) int {
			io.WriteString(ch, user+" ran "+command+"\n")
			return 7
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := dial(t, s, "alice", ssh.Password("bad")); err == nil {
		t.Fatal("bad password accepted")
	}
	c, err := dial(t, s, "alice", ssh.Password("pw"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.Output("/usr/sbin/imapd")
	if string(out) != "alice ran /usr/sbin/imapd\n" {
		t.Errorf("output %q", out)
	}
	var ee *ssh.ExitError
	if !errors.As(err, &ee) || ee.ExitStatus() != 7 {
		t.Errorf("err = %v, want exit status 7", err)
	}
	if s.LoginCount() != 1 {
		t.Errorf("LoginCount = %d", s.LoginCount())
	}
}

func TestServerPublicKeyForward(t *testing.T) {
	signer, _, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(ServerOptions{
		AuthorizedKeys: map[string][]ssh.PublicKey{"bob": {signer.PublicKey()}},
		Forward: func(host string, port int) (net.Conn, error) {
			a, b := net.Pipe()
			go func() { io.WriteString(b, host); b.Close() }()
			return a, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := dial(t, s, "bob", ssh.PublicKeys(signer))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	conn, err := c.Dial("tcp", "popserver:110")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(conn)
	if string(got) != "popserver" || s.ForwardCount() != 1 {
		t.Errorf("got %q, ForwardCount %d", got, s.ForwardCount())
	}
	// Another user's login with bob's key fails.
	if _, err := dial(t, s, "mallory", ssh.PublicKeys(signer)); err == nil {
		t.Error("unauthorized user logged in")
	}
}

func TestKnownHostsLine(t *testing.T) {
	s, err := NewServer(ServerOptions{Users: map[string]string{"a": "b"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	line := s.KnownHostsLine()
	if !strings.HasPrefix(line, "[127.0.0.1]:") {
		t.Errorf("line %q", line)
	}
	_, hosts, key, _, _, err := ssh.ParseKnownHosts([]byte(line))
	if err != nil || !bytes.Equal(key.Marshal(), s.HostKey.PublicKey().Marshal()) || hosts[0] != knownhosts.Normalize(s.Addr) {
		t.Errorf("ParseKnownHosts(%q) = %v %v", line, hosts, err)
	}
	if s.KnownHostsLine("mailgw")[:7] != "mailgw " {
		t.Errorf("KnownHostsLine(mailgw) = %q", s.KnownHostsLine("mailgw"))
	}
}

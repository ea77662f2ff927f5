package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"testing"

	"github.com/gofetchmail/gofetchmail/transport/sshtest"
)

func TestParseSSHPlugin(t *testing.T) {
	good := []struct {
		cmd  string
		want SSHPlugin
	}{
		{"ssh -W mail.example.org:110 gw", SSHPlugin{Target: SSHTarget{Host: "gw"}, Host: "mail.example.org", Port: 110}},
		{"/usr/bin/ssh -q -p 2222 -i /k alice@gw -W[::1]:995", SSHPlugin{Target: SSHTarget{User: "alice", Host: "gw", Port: 2222, IdentityFiles: []string{"/k"}}, Host: "::1", Port: 995}},
		{"ssh -oUser=bob -J jump gw /usr/lib/dovecot/pop3 -c /etc/x.conf", SSHPlugin{Target: SSHTarget{User: "bob", Host: "gw", Options: map[string]string{"User": "bob", "ProxyJump": "jump"}}, Command: []string{"/usr/lib/dovecot/pop3", "-c", "/etc/x.conf"}}},
		{"ssh -l msingh popserver /usr/sbin/imapd", SSHPlugin{Target: SSHTarget{User: "msingh", Host: "popserver"}, Command: []string{"/usr/sbin/imapd"}}},
	}
	for _, c := range good {
		got, err := ParseSSHPlugin(c.cmd)
		if err != nil {
			t.Errorf("%q: %v", c.cmd, err)
			continue
		}
		if !reflect.DeepEqual(*got, c.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", c.cmd, *got, c.want)
		}
	}
	bad := []string{
		"", "nc mail 110", "ssh gw", "ssh -W mail:110 gw /bin/popper", "ssh -W mail gw",
		"ssh -W mail:0 gw", "ssh -L 1:a:2 gw /bin/x", "ssh -R 1:a:2 gw -W a:1", "ssh gw -W",
		"bin/ssh gw /x", "ssh -W a:1 -W b:2 gw",
	}
	for _, cmd := range bad {
		if p, err := ParseSSHPlugin(cmd); err == nil || !errors.Is(err, ErrNotSSHForward) {
			t.Errorf("%q: got %+v, %v; want ErrNotSSHForward", cmd, p, err)
		}
	}
}

func TestExecChannel(t *testing.T) {
	execStderr = io.Discard
	defer func() { execStderr = os.Stderr }()
	ran := make(chan string, 1)
	r := newRig(t, func(o *sshtest.ServerOptions) {
		o.Exec = func(user, command string, ch io.ReadWriteCloser) int {
			ran <- user + ": " + command
			fmt.Fprint(ch, "+OK preauth\r\n")
			buf := make([]byte, 6)
			if _, err := io.ReadFull(ch, buf); err != nil {
				return 1
			}
			fmt.Fprintf(ch, "got %s", buf)
			return 0
		}
	})
	r.trust(t)
	c, err := DialSSH(context.Background(), r.target(), r.opts())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	conn, err := c.Exec(context.Background(), []string{"/usr/lib/dovecot/pop3", "-c", "x"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if got := <-ran; got != "alice: /usr/lib/dovecot/pop3 -c x" {
		t.Errorf("exec %q", got)
	}
	io.WriteString(conn, "CAPA\r\n")
	all, err := io.ReadAll(conn)
	if err != nil || string(all) != "+OK preauth\r\ngot CAPA\r\n" {
		t.Errorf("read %q, %v", all, err)
	}
}

package fetch

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gofetchmail/gofetchmail/rcparse"
)

// A translated "ssh -L" preconnect whose SSH server cannot be reached ends
// the poll with 5, as fetchmail's failed preconnect (the real ssh exits
// 255) does; gofetchmail's own sshtunnel keeps 2 for the same failure.
func TestTranslatedPreconnectUnreachableIsStatus5(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, dead, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	for _, c := range []struct {
		rc   string
		want Status
	}{
		{fmt.Sprintf("poll localhost proto pop3 port 11110 user msingh password foobar preconnect \"ssh -f -p %s msingh@127.0.0.1 -L 11110:127.0.0.1:110 sleep 5\"\n", dead), StatusSyntax},
		{fmt.Sprintf("poll 127.0.0.1 proto pop3 port 110 sshtunnel \"msingh@127.0.0.1:%s\" user msingh password foobar\n", dead), StatusSocket},
	} {
		home := t.TempDir()
		cfg, _, err := rcparse.Parse("t.rc", []byte(c.rc), rcparse.Options{User: "tester", Home: home})
		if err != nil {
			t.Fatal(err)
		}
		md := filepath.Join(home, "Maildir")
		j := Job{Config: cfg, Server: cfg.Servers[0], User: cfg.Servers[0].Users[0]}
		j.User.Maildir = &md
		uids, err := LoadUIDStore(filepath.Join(home, "ids"))
		if err != nil {
			t.Fatal(err)
		}
		res := Run(context.Background(), []Job{j}, uids, Options{Home: home})
		if res[0].Status != c.want {
			t.Errorf("%s: status %d, want %d: %v", c.rc, res[0].Status, c.want, res[0].Err)
		}
		if msg := fmt.Sprint(res[0].Err); !strings.Contains(msg, "connect to 127.0.0.1:"+dead+": connection refused") || strings.Contains(msg, "dial tcp") {
			t.Errorf("%s: error %q does not say once where it could not connect", c.rc, msg)
		}
	}
}

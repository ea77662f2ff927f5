//go:build interop

package interop

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestNetrc gives an rc entry without a password its password through
// ~/.netrc, against dovecot, in gofetchmail and in the real fetchmail: a
// machine entry for the poll name is used (exit 0), a default entry is not
// (exit 3, no password), nor one for another login.
func TestNetrc(t *testing.T) {
	progs := []struct{ name, path string }{{"gofetchmail", binary}}
	if fm := realFetchmail(); fm != "" {
		progs = append(progs, struct{ name, path string }{"fetchmail", fm})
	}
	rc := "poll 127.0.0.1 with protocol pop3 and port %PORT%\n  user msingh there is manish here sslproto '' mda \"%MDA%\"\n"
	cases := []struct {
		name, netrc string
		want, got   int
	}{
		{"machine", "machine 127.0.0.1\n  login msingh\n  password foobar\n", 0, 1},
		{"default", "default login msingh password foobar\n", 3, 0},
		{"other-login", "machine 127.0.0.1 login someone password foobar\n", 3, 0},
	}
	for _, c := range cases {
		for _, p := range progs {
			t.Run(c.name+"/"+p.name, func(t *testing.T) {
				r := newRetriever(t, p.name, p.path)
				r.rc(t, strings.ReplaceAll(rc, "%PORT%", rig["RIG_POP3_PORT"]), 0o600)
				writeFile(t, filepath.Join(r.dir, ".netrc"), c.netrc, 0o600)
				settledFill(t, 1)
				res := r.run(t)
				if res.code != c.want {
					t.Errorf("%s exited %d, want %d\n%v", p.name, res.code, c.want, res)
				}
				if n := r.delivered(t); n != c.got {
					t.Errorf("%s delivered %d, want %d", p.name, n, c.got)
				}
			})
		}
	}
}

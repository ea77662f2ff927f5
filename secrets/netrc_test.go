package secrets

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gofetchmail/gofetchmail/rcparse"
)

func netrcJob(poll, via, user string) (*rcparse.Server, *rcparse.User) {
	s := &rcparse.Server{Pollname: poll}
	if via != "" {
		s.Via = &via
	}
	return s, &rcparse.User{Remotename: user}
}

// The cases were run through the real fetchmail 6.4.37 against dovecot
// (rc entry without a password, user msingh, right password foobar): ok
// means fetchmail logged in with the password want.
func TestNetrcPasswordAsFetchmail(t *testing.T) {
	cases := []struct {
		name, netrc, poll, via string
		want                   string
		ok                     bool
	}{
		{"machine login password", "machine 127.0.0.1 login msingh password foobar\n", "127.0.0.1", "", "foobar", true},
		{"default is never used", "default login msingh password foobar\n", "127.0.0.1", "", "", false},
		{"entry without login is dropped", "machine 127.0.0.1 password foobar\n", "127.0.0.1", "", "", false},
		{"other login", "machine 127.0.0.1 login other password foobar\n", "127.0.0.1", "", "", false},
		{"login compared exactly", "machine 127.0.0.1 login MSINGH password foobar\n", "127.0.0.1", "", "", false},
		{"via name", "machine 127.0.0.1 login msingh password foobar\n", "myalias", "127.0.0.1", "foobar", true},
		{"poll name before via", "machine myalias login msingh password wrong\nmachine 127.0.0.1 login msingh password foobar\n", "myalias", "127.0.0.1", "wrong", true},
		{"poll entry without password falls to via", "machine myalias login msingh\nmachine 127.0.0.1 login msingh password foobar\n", "myalias", "127.0.0.1", "foobar", true},
		{"first entry wins", "machine 127.0.0.1 login msingh password wrong\nmachine 127.0.0.1 login msingh password foobar\n", "127.0.0.1", "", "wrong", true},
		{"quoted with blank", "machine 127.0.0.1 login msingh password \"foo bar\"\n", "127.0.0.1", "", "foo bar", true},
		{"quotes inside a token", "machine 127.0.0.1 login msingh password 'foo'\"bar\"\n", "127.0.0.1", "", "foobar", true},
		{"entry over lines, comments", "# comment\nmachine 127.0.0.1\n login msingh # trailing\n  password foobar\n", "127.0.0.1", "", "foobar", true},
		{"macdef skipped to empty line", "macdef init\nmachine 127.0.0.1 login msingh password wrong\n\nmachine 127.0.0.1 login msingh password foobar\n", "127.0.0.1", "", "foobar", true},
		{"passwd and user", "machine 127.0.0.1 user msingh passwd foobar\n", "127.0.0.1", "", "foobar", true},
		{"account and unknown words", "machine 127.0.0.1 login msingh account x password foobar bogus\n", "127.0.0.1", "", "foobar", true},
		{"fields before any machine", "login msingh password foobar\nmachine 127.0.0.1 login msingh password foobar\n", "127.0.0.1", "", "foobar", true},
		{"empty password", "machine 127.0.0.1 login msingh password \"\"\n", "127.0.0.1", "", "", true},
		{"CRLF lines", "machine 127.0.0.1\r\nlogin msingh\r\npassword foobar\r\n", "127.0.0.1", "", "foobar", true},
		{"empty file", "", "127.0.0.1", "", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := ParseNetrc(".netrc", []byte(c.netrc))
			got, ok := n.Password(netrcJob(c.poll, c.via, "msingh"))
			if got != c.want || ok != c.ok {
				t.Errorf("Password = %q, %v; want %q, %v (entries %+v)", got, ok, c.want, c.ok, n.Entries)
			}
		})
	}
}

// The warnings are fetchmail's, with file and line.
func TestNetrcWarnings(t *testing.T) {
	n := ParseNetrc("/h/.netrc", []byte("login msingh password x\nmachine a login b account c bogus\n"))
	want := []string{
		`/h/.netrc:1: warning: found "login" before any host names`,
		`/h/.netrc:1: warning: found "password" before any host names`,
		`/h/.netrc:2: warning: unknown token "bogus"`,
	}
	if !reflect.DeepEqual(n.Warnings, want) {
		t.Errorf("warnings\n%q\nwant\n%q", n.Warnings, want)
	}
}

func TestLoadNetrc(t *testing.T) {
	dir := t.TempDir()
	n, err := LoadNetrc(filepath.Join(dir, "missing"))
	if err != nil || len(n.Entries) != 0 {
		t.Fatalf("missing file: %v, %+v", err, n)
	}
	if _, err := LoadNetrc(dir); err == nil {
		t.Error("a directory loaded as a .netrc")
	}
	path := filepath.Join(dir, ".netrc")
	if err := os.WriteFile(path, []byte("machine m login u password p\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o644)
	n, err = LoadNetrc(path)
	if err != nil || !n.Loose() || n.Lookup("m", "u") == nil {
		t.Fatalf("0644 file: %v, loose %v, %+v", err, n.Loose(), n)
	}
	os.Chmod(path, 0o600)
	if n, _ = LoadNetrc(path); n.Loose() {
		t.Error("mode 0600 called loose")
	}
}

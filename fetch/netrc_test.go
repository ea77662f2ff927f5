package fetch

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gofetchmail/gofetchmail/rcparse"
)

func netrcJob(poll, via, user string) Job {
	s := &rcparse.Server{Pollname: poll}
	if via != "" {
		s.Via = &via
	}
	return Job{Server: s, User: &rcparse.User{Remotename: user}}
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

// The engine takes a password the rc file lacks from the .netrc before it
// would prompt, and says so only at -v -v; the password is never logged.
func TestPollUsesNetrc(t *testing.T) {
	e := newTestEnv(t, testMessages(2), nil)
	e.job.User.Password = nil
	e.opts.Verbose = 2
	e.opts.Password = func(string) (string, error) {
		t.Error("prompted although the .netrc has the password")
		return "", nil
	}
	e.opts.NetrcFile = filepath.Join(t.TempDir(), ".netrc")
	if err := os.WriteFile(e.opts.NetrcFile, []byte("machine 127.0.0.1 login msingh password foobar\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(e.opts.NetrcFile, 0o644)
	res := e.poll(t)
	if res.Err != nil || res.Delivered != 2 {
		t.Fatalf("result %+v\n%s", res, e.log)
	}
	log := e.log.String()
	if !strings.Contains(log, "the password for msingh@127.0.0.1 comes from "+e.opts.NetrcFile) {
		t.Errorf("-v -v does not name the password's source:\n%s", log)
	}
	if !strings.Contains(log, "is accessible to group or others (mode 0644)") {
		t.Errorf("no warning about the loose mode:\n%s", log)
	}
	if strings.Contains(log, "foobar") {
		t.Errorf("password in the log:\n%s", log)
	}
	// Without a matching entry the prompt is the next source.
	os.WriteFile(e.opts.NetrcFile, []byte("machine elsewhere login msingh password foobar\n"), 0o600)
	prompted := false
	e.opts.Password = func(string) (string, error) { prompted = true; return "foobar", nil }
	e.mbox.Add(testMessages(1)...)
	if res := e.poll(t); res.Err != nil || !prompted {
		t.Errorf("result %+v, prompted %v", res, prompted)
	}
}

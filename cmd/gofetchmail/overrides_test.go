package main

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gofetchmail/gofetchmail/rcparse"
)

// Each option of the list overrides the rc value of every entry as
// in fetchmail (the values were compared with fetchmail 6.4.37's
// --configdump for the same rc file and command line).
func TestOptionsOverrideRC(t *testing.T) {
	const rc = "poll h timeout 60 proto pop3 port 110\n  user rcuser password p keep limit 5000 fetchlimit 9 expunge 3 mda \"rc-mda\" smtphost rchost\n" +
		"poll k\n  user other password q\n"
	dir := t.TempDir()
	path := filepath.Join(dir, "rc")
	if err := os.WriteFile(path, []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	cert := filepath.Join(dir, "client.pem")
	cases := []struct {
		args []string
		get  func(s *rcparse.Server, u *rcparse.User) any
		want any
	}{
		{[]string{"-a"}, func(_ *rcparse.Server, u *rcparse.User) any { return u.Fetchall }, true},
		{[]string{"--fetchall"}, func(_ *rcparse.Server, u *rcparse.User) any { return u.Fetchall }, true},
		{[]string{"-K"}, func(_ *rcparse.Server, u *rcparse.User) any { return u.Keep }, false},
		{[]string{"-k"}, func(s *rcparse.Server, u *rcparse.User) any { return s.Pollname != "k" || u.Keep }, true},
		{[]string{"-F"}, func(_ *rcparse.Server, u *rcparse.User) any { return u.Flush }, true},
		{[]string{"--limitflush"}, func(_ *rcparse.Server, u *rcparse.User) any { return u.Limitflush }, true},
		{[]string{"-l", "100"}, func(_ *rcparse.Server, u *rcparse.User) any { return u.Limit }, 100},
		{[]string{"-B", "2"}, func(_ *rcparse.Server, u *rcparse.User) any { return u.Fetchlimit }, 2},
		{[]string{"-u", "bob"}, func(_ *rcparse.Server, u *rcparse.User) any { return u.Remotename }, "bob"},
		{[]string{"-p", "apop"}, func(s *rcparse.Server, _ *rcparse.User) any { return s.Protocol }, "APOP"},
		{[]string{"-P", "995"}, func(s *rcparse.Server, _ *rcparse.User) any { return *s.Port }, "995"},
		{[]string{"-t", "5"}, func(s *rcparse.Server, _ *rcparse.User) any { return s.Timeout }, 5},
		{[]string{"-t", "0"}, func(s *rcparse.Server, _ *rcparse.User) any { return s.Timeout }, 300},
		{[]string{"-S", "a,b/2525"}, func(_ *rcparse.Server, u *rcparse.User) any { return u.Smtphunt }, []string{"a", "b/2525"}},
		{[]string{"-m", "procmail -d %T"}, func(_ *rcparse.Server, u *rcparse.User) any { return *u.MDA }, "procmail -d %T"},
		{[]string{"--ssl"}, func(_ *rcparse.Server, u *rcparse.User) any { return u.SSL }, true},
		{[]string{"--sslcert", cert}, func(_ *rcparse.Server, u *rcparse.User) any { return *u.SSLCert }, cert},
		{[]string{"--fetchsizelimit", "0"}, func(_ *rcparse.Server, u *rcparse.User) any { return u.Fetchsizelimit }, 0},
		{[]string{"--fastuidl", "0"}, func(_ *rcparse.Server, u *rcparse.User) any { return u.Fastuidl }, 0},
		{[]string{"-b", "3"}, func(_ *rcparse.Server, u *rcparse.User) any { return u.Batchlimit }, 3},
		{[]string{"--batchlimit", "4"}, func(_ *rcparse.Server, u *rcparse.User) any { return u.Batchlimit }, 4},
		{[]string{"-e", "2"}, func(_ *rcparse.Server, u *rcparse.User) any { return u.Expunge }, 2},
		{[]string{"-e", "0"}, func(_ *rcparse.Server, u *rcparse.User) any { return [2]any{u.Expunge, u.ExpungeSet} }, [2]any{0, true}},
	}
	for _, c := range cases {
		f := newFlags(io.Discard)
		if err := f.fs.Parse(append([]string{"-f", path}, c.args...)); err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		cfg, code := loadConfig(path, dir, f, io.Discard)
		if cfg == nil {
			t.Fatalf("%v: exit %d", c.args, code)
		}
		for _, s := range cfg.Servers {
			if got := c.get(s, s.Users[0]); !reflect.DeepEqual(got, c.want) {
				t.Errorf("%v: entry %s has %v, want %v", c.args, s.Pollname, got, c.want)
			}
		}
	}
}

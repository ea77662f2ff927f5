package rcparse

import (
	"strings"
	"testing"
)

// keepdays N is a user option (defaults pass it on), shown by --configdump;
// a negative number is an error naming its line.
func TestKeepdays(t *testing.T) {
	cfg, _ := parseOK(t, "defaults keepdays 9\npoll h user u keep keepdays 0\npoll k user v keep\npoll m user w\n")
	for i, want := range []int{0, 9, 9} {
		u := cfg.Servers[i].Users[0]
		if u.Keepdays == nil || *u.Keepdays != want {
			t.Errorf("entry %d: keepdays %v, want %d", i, u.Keepdays, want)
		}
	}
	var b strings.Builder
	if err := cfg.DumpJSON(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"keepdays": 0`) || !strings.Contains(b.String(), `"keepdays": 9`) {
		t.Errorf("dump:\n%s", b.String())
	}
	cfg, _ = parseOK(t, "poll h user u keep\n")
	b.Reset()
	if cfg.Servers[0].Users[0].Keepdays != nil || cfg.DumpJSON(&b) != nil || strings.Contains(b.String(), "keepdays") {
		t.Errorf("keepdays set without the option:\n%s", b.String())
	}
	// In a list of names it is a name, as for the other extensions.
	cfg, _ = parseOK(t, "poll h user u is keepdays here\n")
	if u := cfg.Servers[0].Users[0]; u.Keepdays != nil || u.Localnames[0].Local != "keepdays" {
		t.Errorf("keepdays in a name list: %+v", u)
	}
	_, _, err := Parse("/rc", []byte("poll h\n user u keep keepdays -2\n"), Options{User: "tester", Home: "/home/tester"})
	if err == nil || !strings.Contains(err.Error(), "/rc:2: keepdays takes 0 or more days") {
		t.Errorf("keepdays -2: %v", err)
	}
}

package fetch

import (
	"reflect"
	"testing"
)

func TestRoutePluginSSH(t *testing.T) {
	cases := []struct {
		plugin string
		noSSH  bool
		kind   string
		host   string
		port   int
		exec   []string
	}{
		{"ssh -W %h:%p msingh@gw", false, "ssh", "mail.example.org", 110, nil},
		{"ssh -p 2222 gw -W 10.0.0.5:%p", false, "ssh", "10.0.0.5", 110, nil},
		{"ssh -l msingh gw /usr/lib/dovecot/pop3", false, "ssh", "mail.example.org", 110, []string{"/usr/lib/dovecot/pop3"}},
		{"nc %h %p", false, "plugin", "mail.example.org", 110, nil},
		{"ssh -W %h:%p gw", true, "plugin", "mail.example.org", 110, nil},
	}
	for _, c := range cases {
		s, u := parseOne(t, "poll mail.example.org proto pop3 auth ssh plugin \""+c.plugin+"\" user msingh password x\n")
		r, err := chooseRoute(s, u, &Options{NoBuiltinSSH: c.noSSH})
		if err != nil {
			t.Fatal(err)
		}
		if r.kind != c.kind || r.host != c.host || r.port != c.port || !reflect.DeepEqual(r.exec, c.exec) {
			t.Errorf("%q: route %+v", c.plugin, r)
		}
		if c.kind == "ssh" && (mustSTLS(u, r) || r.sshFrom != "plugin" || r.original == "") {
			t.Errorf("%q: STLS demanded or no fallback: %+v", c.plugin, r)
		}
	}
}

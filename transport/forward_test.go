package transport

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseSSHForward(t *testing.T) {
	tests := []struct {
		cmd  string
		want Forward
	}{
		{
			cmd: "ssh -C -f msingh@popserver -L 11110:popserver:110 sleep 5",
			want: Forward{
				Target:    SSHTarget{User: "msingh", Host: "popserver", Options: map[string]string{"Compression": "yes"}},
				LocalPort: 11110, RemoteHost: "popserver", RemotePort: 110,
				Compression: true, Command: []string{"sleep", "5"},
			},
		},
		{
			cmd: "exec /usr/bin/ssh -fN -l bob -p 2222 -i ~/.ssh/mail_key -L 127.0.0.1:1110:localhost:110 mail.example.org",
			want: Forward{
				Target:   SSHTarget{User: "bob", Host: "mail.example.org", Port: 2222, IdentityFiles: []string{"~/.ssh/mail_key"}},
				BindAddr: "127.0.0.1", LocalPort: 1110, RemoteHost: "localhost", RemotePort: 110,
			},
		},
		{
			cmd: `ssh -Cf -o "StrictHostKeyChecking accept-new" -oUserKnownHostsFile=/tmp/kh -o connecttimeout=5 -p2200 host -L11110:pop:110 'sleep 5'`,
			want: Forward{
				Target: SSHTarget{Host: "host", Port: 2200, Options: map[string]string{
					"Compression": "yes", "StrictHostKeyChecking": "accept-new",
					"UserKnownHostsFile": "/tmp/kh", "ConnectTimeout": "5"}},
				LocalPort: 11110, RemoteHost: "pop", RemotePort: 110, Compression: true, Command: []string{"sleep 5"},
			},
		},
		{
			// The first user wins (user@host before -l); options after the host; IPv6 in brackets.
			cmd: "ssh alice@gw -l ignored -4 -q -T -L '[::1]:995:[2001:db8::1]:995' -n -v",
			want: Forward{
				Target:   SSHTarget{User: "alice", Host: "gw"},
				BindAddr: "::1", LocalPort: 995, RemoteHost: "2001:db8::1", RemotePort: 995,
			},
		},
		{
			cmd: "ssh -x -a -A -g -k -6 -o Port=2022 ssh://carol@[2001:db8::5]:2200 -L '*:11110:mail:110'",
			want: Forward{
				Target:   SSHTarget{User: "carol", Host: "2001:db8::5", Port: 2022, Options: map[string]string{"Port": "2022"}},
				BindAddr: "*", LocalPort: 11110, RemoteHost: "mail", RemotePort: 110,
			},
		},
		{
			cmd: "ssh -J jumper@bastion:2200 -fN -L 11110:popserver:110 popserver",
			want: Forward{
				Target:    SSHTarget{Host: "popserver", Options: map[string]string{"ProxyJump": "jumper@bastion:2200"}},
				LocalPort: 11110, RemoteHost: "popserver", RemotePort: 110,
			},
		},
		{
			// -l and -p before the destination win over user@ and the URI port.
			cmd: "ssh -l bob -p 2022 ssh://alice@gw:2200 -L 1:b:2",
			want: Forward{
				Target:    SSHTarget{User: "bob", Host: "gw", Port: 2022},
				LocalPort: 1, RemoteHost: "b", RemotePort: 2,
			},
		},
		{
			cmd: `ssh -f "dave@pop server" -L 1:b:2 -- echo "a b"`,
			want: Forward{
				Target:    SSHTarget{User: "dave", Host: "pop server"},
				LocalPort: 1, RemoteHost: "b", RemotePort: 2, Command: []string{"echo", "a b"},
			},
		},
	}
	for _, tc := range tests {
		got, err := ParseSSHForward(tc.cmd)
		if err != nil {
			t.Errorf("ParseSSHForward(%q): %v", tc.cmd, err)
			continue
		}
		if !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("ParseSSHForward(%q)\n got %+v\nwant %+v", tc.cmd, *got, tc.want)
		}
	}
}

func TestParseSSHForwardRejects(t *testing.T) {
	for _, cmd := range []string{
		"",
		"sleep 5",
		"autossh -M 0 -f host -L 1:h:2",
		"sshpass -p x ssh host -L 1:h:2",
		"ssh host",                                    // no -L
		"ssh -f host -L 1:h:2 && echo ok",             // chain
		"ssh -f host -L 1:h:2 | cat",                  // pipe
		"ssh -f host -L 1:h:2 > /tmp/log",             // redirection
		"ssh -f host -L 1:h:2 2>&1",                   // redirection
		"ssh -f host -L 1:h:2; sleep 1",               // sequence
		"ssh -f host -L 1:h:2 &",                      // background
		"ssh -f $HOST -L 1:h:2",                       // expansion
		"ssh -f `hostname` -L 1:h:2",                  // command substitution
		"ssh -f host -L 1:h:2 -L 3:h:4",               // several -L
		"ssh -f host -L 1:h:2 -R 3:h:4",               // -R
		"ssh -f host -D 1080 -L 1:h:2",                // -D
		"ssh -W h:110 host",                           // stdio forward (a plugin form)
		"ssh -F /tmp/cfg host -L 1:h:2",               // other config file
		"ssh -Z host -L 1:h:2",                        // unknown option
		"ssh -fZ host -L 1:h:2",                       // unknown option in a group
		"ssh -o LocalForward=1 host -L 1:h:2",         // forward via -o
		"ssh host -L 1:h",                             // short spec
		"ssh host -L /tmp/sock:h:2",                   // unix socket
		"ssh host -L 1:h:notaport",                    // bad port
		"ssh host -L 70000:h:2",                       // port range
		"ssh -p x host -L 1:h:2",                      // bad -p
		"ssh 'unterminated host -L 1:h:2",             // quoting
		"ssh -L",                                      // missing value
		"ssh -L 1:h:2",                                // no host
		"bin/ssh host -L 1:h:2",                       // relative path
		"ssh host -L 1:h:2 sleep 5\necho second line", // several lines
	} {
		f, err := ParseSSHForward(cmd)
		if !errors.Is(err, ErrNotSSHForward) {
			t.Errorf("ParseSSHForward(%q) = %+v, %v; want ErrNotSSHForward", cmd, f, err)
		}
	}
}

func TestForwardMatches(t *testing.T) {
	f := &Forward{LocalPort: 11110, RemoteHost: "popserver", RemotePort: 110}
	for _, tc := range []struct {
		host string
		port int
		want bool
	}{
		{"localhost", 11110, true},
		{"LOCALHOST", 11110, true},
		{"127.0.0.1", 11110, true},
		{"127.1.2.3", 11110, true},
		{"::1", 11110, true},
		{"[::1]", 11110, true},
		{"ip6-localhost", 11110, true},
		{"localhost", 110, false},
		{"popserver", 11110, false},
		{"10.0.0.1", 11110, false},
		{"", 11110, false},
	} {
		if got := f.Matches(tc.host, tc.port); got != tc.want {
			t.Errorf("Matches(%q, %d) = %v, want %v", tc.host, tc.port, got, tc.want)
		}
	}
	for bind, want := range map[string]bool{
		"localhost": true, "127.0.0.1": true, "::1": true, "*": true, "0.0.0.0": true,
		"192.168.1.5": false, "mailhost": false,
	} {
		g := *f
		g.BindAddr = bind
		if got := g.Matches("localhost", 11110); got != want {
			t.Errorf("BindAddr %q: Matches = %v, want %v", bind, got, want)
		}
	}
	var nilF *Forward
	if nilF.Matches("localhost", 11110) {
		t.Error("nil Forward matches")
	}
}

func TestParseSSHTunnelSpec(t *testing.T) {
	good := map[string]SSHTarget{
		"popserver":                {Host: "popserver"},
		"msingh@popserver":         {User: "msingh", Host: "popserver"},
		"msingh@popserver:2222":    {User: "msingh", Host: "popserver", Port: 2222},
		"[::1]:2222":               {Host: "::1", Port: 2222},
		"u@[2001:db8::1]:22":       {User: "u", Host: "2001:db8::1", Port: 22},
		"2001:db8::1":              {Host: "2001:db8::1"},
		"me@corp.example@gw:2200":  {User: "me@corp.example", Host: "gw", Port: 2200},
		"ssh://u@example.org:2022": {User: "u", Host: "example.org", Port: 2022},
	}
	for spec, want := range good {
		got, err := ParseSSHTunnelSpec(spec)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParseSSHTunnelSpec(%q) = %+v, %v; want %+v", spec, got, err, want)
		}
	}
	for _, spec := range []string{"", "@host", "host:", "host:0", "host:99999", "[::1", "[::1]x", "u@", "a b"} {
		if got, err := ParseSSHTunnelSpec(spec); err == nil {
			t.Errorf("ParseSSHTunnelSpec(%q) = %+v, want error", spec, got)
		}
	}
}

func TestSplitShellWords(t *testing.T) {
	got, err := splitShellWords(`a 'b c' "d \"e\" \$" f\ g h'i'"j" # comment`)
	want := []string{"a", "b c", `d "e" $`, "f g", "hij"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("splitShellWords = %q, %v; want %q", got, err, want)
	}
}

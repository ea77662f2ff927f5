package transport

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestParseSSHForwardAgainstOpenSSH compares ParseSSHForward with what the
// installed ssh client makes of the same arguments (`ssh -G` prints the
// resolved settings without connecting). Skipped without ssh.
func TestParseSSHForwardAgainstOpenSSH(t *testing.T) {
	sshPath, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("no ssh client installed")
	}
	home := t.TempDir()
	for _, cmd := range []string{
		"ssh -C -f msingh@popserver -L 11110:popserver:110 sleep 5",
		"ssh -fN -l bob -p 2222 -L 127.0.0.1:1110:localhost:110 mail.example.org",
		"ssh -l bob alice@gw -L 1:b:2",
		"ssh alice@gw -l bob -p 2 -o Port=3 -L 1:b:2",
		"ssh -o Port=3 -o User=carol -p 2 gw -l bob -L 1:b:2",
		"ssh -oUser=carol dave@gw -L 1:b:2",
		"ssh -Cf -o 'StrictHostKeyChecking accept-new' -p2200 host -L11110:pop:110 'sleep 5'",
		"ssh gw -p 2200 -4 -q -T -L '[::1]:995:[2001:db8::1]:995' -n",
		"ssh -p 2022 ssh://alice@gw:2200 -L 1:b:2",
		"ssh ssh://alice@gw:2200 -p 2022 -L 1:b:2",
		"ssh -L 11110:popserver:110 -fNq user@popserver",
		"ssh -J jumper@bastion:2200 -fN -L 11110:popserver:110 popserver",
	} {
		f, err := ParseSSHForward(cmd)
		if err != nil {
			t.Errorf("ParseSSHForward(%q): %v", cmd, err)
			continue
		}
		words, _ := splitShellWords(cmd)
		args := append([]string{"-G", "-F", "/dev/null"}, words[1:]...)
		c := exec.Command(sshPath, args...)
		c.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin", "USER=localuser", "LOGNAME=localuser"}
		out, err := c.Output()
		if err != nil {
			t.Errorf("ssh %q: %v", args, err)
			continue
		}
		got := map[string]string{}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			k, v, _ := strings.Cut(sc.Text(), " ")
			got[k] = v
		}
		want := map[string]string{
			"hostname":     f.Target.Host,
			"port":         strconv.Itoa(f.Target.Port),
			"localforward": fmt.Sprintf("%s [%s]:%d", bindPort(f), f.RemoteHost, f.RemotePort),
			"compression":  map[bool]string{true: "yes", false: "no"}[f.Compression],
		}
		if f.Target.Port == 0 {
			want["port"] = "22"
		}
		if f.Target.User != "" {
			want["user"] = f.Target.User
		}
		for _, k := range []string{"StrictHostKeyChecking", "ProxyJump"} {
			if v, ok := f.Target.Options[k]; ok {
				want[strings.ToLower(k)] = v
			}
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%q: ssh -G says %s %q, ParseSSHForward %q", cmd, k, got[k], v)
			}
		}
	}
}

func bindPort(f *Forward) string {
	if f.BindAddr == "" {
		return strconv.Itoa(f.LocalPort)
	}
	return fmt.Sprintf("[%s]:%d", f.BindAddr, f.LocalPort)
}

// TestResolveSSHAgainstOpenSSH compares how DialSSH reads an ssh config
// file with `ssh -G`. Skipped without ssh.
func TestResolveSSHAgainstOpenSSH(t *testing.T) {
	sshPath, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("no ssh client installed")
	}
	home := t.TempDir()
	cfgText := `Host mail popserver
    HostName 127.0.0.1
    Port 2222
    User alice
    HostKeyAlias mailgw
    ConnectTimeout 7

Host *.example.org !secret.example.org
    User corp
    ProxyJump bastion.example.org:2200
    StrictHostKeyChecking accept-new

Host bastion.example.org
    ProxyJump none

Host short
    HostName %h.example.net

Match host 10.*
    Port 2022

Host *
    User everyone
    Port 22
`
	cfg := writeFile(t, home+"/.ssh/config", []byte(cfgText))
	parsed, err := loadSSHConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tgt := range []SSHTarget{
		{Host: "popserver"},
		{Host: "mail", User: "bob", Port: 99},
		{Host: "www.example.org"},
		{Host: "secret.example.org"},
		{Host: "bastion.example.org"},
		{Host: "short"},
		{Host: "10.1.2.3"},
		{Host: "elsewhere", Options: map[string]string{"User": "opt", "HostName": "h.example"}},
	} {
		s, err := resolveSSH(tgt, parsed, home, "localuser")
		if err != nil {
			t.Errorf("%+v: %v", tgt, err)
			continue
		}
		args := []string{"-G", "-F", cfg}
		if tgt.User != "" {
			args = append(args, "-l", tgt.User)
		}
		if tgt.Port != 0 {
			args = append(args, "-p", strconv.Itoa(tgt.Port))
		}
		for k, v := range tgt.Options {
			args = append(args, "-o", k+"="+v)
		}
		c := exec.Command(sshPath, append(args, tgt.Host)...)
		c.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin", "USER=localuser"}
		out, err := c.Output()
		if err != nil {
			t.Errorf("ssh %q: %v", args, err)
			continue
		}
		got := map[string]string{}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			k, v, _ := strings.Cut(sc.Text(), " ")
			got[k] = v
		}
		strict := map[string]string{"yes": "ask", "accept-new": "accept-new", "no": "false"}[s.strict]
		want := map[string]string{
			"hostname": s.hostName, "port": strconv.Itoa(s.port), "user": s.user,
			"stricthostkeychecking": strict,
		}
		if s.hostKeyAlias != "" {
			want["hostkeyalias"] = s.hostKeyAlias
		}
		if s.connectTimeout > 0 {
			want["connecttimeout"] = strconv.Itoa(int(s.connectTimeout.Seconds()))
		}
		if s.proxyJump != "" {
			want["proxyjump"] = s.proxyJump
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: ssh -G says %s %q, resolveSSH %q", tgt.Host, k, got[k], v)
			}
		}
		if got["proxyjump"] != "" && s.proxyJump == "" {
			t.Errorf("%s: ssh -G says proxyjump %q, resolveSSH none", tgt.Host, got["proxyjump"])
		}
	}
}

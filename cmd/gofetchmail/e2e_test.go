package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gofetchmail/gofetchmail/transport/sshtest"
)

// These tests run the whole program in-process (run()) against the embedded
// SSH and POP3 servers over real loopback sockets.

func newRig(t *testing.T) *demoRig {
	t.Helper()
	rig, err := newDemoRig(t.TempDir(), demoMessages)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rig.close)
	t.Setenv("HOME", rig.home)
	// The pid file goes here rather than to root's /var/run/fetchmail.pid,
	// which other fetchmail runs on the machine may hold.
	t.Setenv("FETCHMAILHOME", rig.home)
	t.Setenv("SSH_AUTH_SOCK", "")
	// An ssh first in PATH that fails loudly: the seed path must not run it.
	bin := filepath.Join(rig.dir, "bin")
	os.MkdirAll(bin, 0o755)
	os.WriteFile(filepath.Join(bin, "ssh"), []byte("#!/bin/sh\necho 'ssh must not be run' >&2\nexit 99\n"), 0o755)
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	return rig
}

func runCmd(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := run(args, &out, &out)
	t.Logf("gofetchmail %s -> %d\n%s", strings.Join(args, " "), code, out.String())
	return code, out.String()
}

func maildirFiles(t *testing.T, dir string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, sub := range []string{"new", "cur"} {
		names, _ := filepath.Glob(filepath.Join(dir, sub, "*"))
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		}
	}
	return out
}

// stripReceived removes the Received header gofetchmail prepends.
func stripReceived(t *testing.T, msg []byte) []byte {
	t.Helper()
	if !bytes.HasPrefix(msg, []byte("Received: from ")) {
		t.Fatalf("message does not start with gofetchmail's Received header:\n%s", msg)
	}
	lines := bytes.SplitAfter(msg, []byte("\n"))
	i := 1
	for i < len(lines) && len(lines[i]) > 0 && (lines[i][0] == '\t' || lines[i][0] == ' ') {
		i++
	}
	return bytes.Join(lines[i:], nil)
}

func TestSeedEndToEndOverSSH(t *testing.T) {
	rig := newRig(t)
	// A squatter on the forward's local port answers like a wrong server:
	// the seed path must not connect to it.
	if l, err := net.Listen("tcp", "127.0.0.1:11110"); err == nil {
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				fmt.Fprintf(c, "-ERR wrong server\r\n")
				c.Close()
			}
		}()
	}
	code, out := runCmd(t, "-f", rig.rc, "--maildir", rig.maildir)
	if code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	if !strings.Contains(out, "in-process SSH channel") {
		t.Errorf("the log does not say the poll took the SSH channel:\n%s", out)
	}
	if strings.Contains(out, "ssh must not be run") {
		t.Error("an ssh subprocess was run")
	}
	got := maildirFiles(t, rig.maildir)
	if len(got) != len(demoMessages) {
		t.Fatalf("%d messages delivered, want %d", len(got), len(demoMessages))
	}
	want := map[string]bool{}
	for _, m := range demoMessages {
		want[string(m.Data)] = true
	}
	for _, g := range got {
		body := string(stripReceived(t, g))
		if !want[body] {
			t.Errorf("delivered message is not byte-identical to any original:\n%s", body)
		}
		delete(want, body)
		if !strings.Contains(string(g), "for <manish@localhost> (single-drop)") {
			t.Errorf("Received header does not name the local recipient:\n%s", g)
		}
	}
	if n := len(rig.mbox.Messages()); n != 0 {
		t.Errorf("%d messages left on the server, want 0", n)
	}
	if rig.ssh.ForwardCount() == 0 {
		t.Error("no direct-tcpip channel was opened")
	}
	// A second run finds nothing.
	if code, _ := runCmd(t, "-f", rig.rc, "--maildir", rig.maildir); code != 1 {
		t.Errorf("second run: exit %d, want 1 (no mail)", code)
	}
}

func TestKeepFetchesOnce(t *testing.T) {
	rig := newRig(t)
	if code, _ := runCmd(t, "-f", rig.rc, "--maildir", rig.maildir, "-k"); code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	if n := len(rig.mbox.Messages()); n != len(demoMessages) {
		t.Fatalf("with -k, %d messages on the server, want %d", n, len(demoMessages))
	}
	ids, err := os.ReadFile(filepath.Join(rig.dir, "fetchids"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ids), "msingh@localhost demo-0001\n") {
		t.Errorf("idfile lacks fetchmail-format lines:\n%s", ids)
	}
	if code, _ := runCmd(t, "-f", rig.rc, "--maildir", rig.maildir, "-k"); code != 1 {
		t.Errorf("second keep run: exit %d, want 1", code)
	}
	if n := len(maildirFiles(t, rig.maildir)); n != len(demoMessages) {
		t.Errorf("%d messages delivered after two keep runs, want %d", n, len(demoMessages))
	}
}

func TestUnknownHostKeyRefused(t *testing.T) {
	rig := newRig(t)
	os.WriteFile(filepath.Join(rig.sshDir, "known_hosts"), nil, 0o600)
	code, out := runCmd(t, "-f", rig.rc, "--maildir", rig.maildir)
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if !strings.Contains(out, "127.0.0.1") || !strings.Contains(out, "known_hosts") {
		t.Errorf("the refusal does not name the host and known_hosts:\n%s", out)
	}
	if n := len(rig.mbox.Messages()); n != len(demoMessages) {
		t.Errorf("messages touched: %d left, want %d", n, len(demoMessages))
	}
}

func TestChangedHostKeyRefused(t *testing.T) {
	rig := newRig(t)
	other, err := sshtest.NewServer(sshtest.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	// known_hosts holds another key for the rig's address.
	line := other.KnownHostsLine()
	line = strings.Replace(line, fmt.Sprintf("[127.0.0.1]:%d", other.Port()), fmt.Sprintf("[127.0.0.1]:%d", rig.ssh.Port()), 1)
	os.WriteFile(filepath.Join(rig.sshDir, "known_hosts"), []byte(line+"\n"), 0o600)
	code, out := runCmd(t, "-f", rig.rc, "--maildir", rig.maildir)
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if !strings.Contains(strings.ToLower(out), "changed") {
		t.Errorf("the refusal does not say the key changed:\n%s", out)
	}
}

func TestWrongPOP3PasswordExit3(t *testing.T) {
	rig := newRig(t)
	rc := strings.Replace(seedRC(rig.dir), "password foobar;", "password wrong;", 1)
	os.WriteFile(rig.rc, []byte(rc), 0o600)
	if code, _ := runCmd(t, "-f", rig.rc, "--maildir", rig.maildir); code != 3 {
		t.Errorf("exit %d, want 3", code)
	}
}

func TestWrongSSHKeyExit3(t *testing.T) {
	rig := newRig(t)
	_, keyPEM, err := sshtest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(rig.sshDir, "id_ed25519"), keyPEM, 0o600)
	if code, _ := runCmd(t, "-f", rig.rc, "--maildir", rig.maildir); code != 3 {
		t.Errorf("exit %d, want 3", code)
	}
}

func TestNoServerExit2(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("FETCHMAILHOME", dir)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens there now
	rc := filepath.Join(dir, "rc")
	os.WriteFile(rc, []byte(fmt.Sprintf("set idfile %q\npoll 127.0.0.1 proto pop3 port %d user u password p sslproto ''\n", filepath.Join(dir, "ids"), port)), 0o600)
	if code, _ := runCmd(t, "-f", rc, "--maildir", filepath.Join(dir, "Maildir")); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
}

func TestSyntaxErrorExit5(t *testing.T) {
	dir := t.TempDir()
	rc := filepath.Join(dir, "rc")
	os.WriteFile(rc, []byte("poll localhost proto pop3\n  user msingh password x\n  proto pop3\n"), 0o600)
	code, out := runCmd(t, "-f", rc)
	if code != 5 {
		t.Errorf("exit %d, want 5", code)
	}
	if !strings.Contains(out, rc+":") {
		t.Errorf("the error does not name the file:\n%s", out)
	}
	os.WriteFile(rc, []byte("# a comment\npoll localhost\n  proto pop9\n"), 0o600)
	code, out = runCmd(t, "-f", rc)
	if code != 5 || !strings.Contains(out, "gofetchmail:"+rc+":3: syntax error at pop9") {
		t.Errorf("exit %d, output %q: want 5 and the file:line: syntax error message", code, out)
	}
}

func TestRCPermissionsExit6(t *testing.T) {
	rig := newRig(t)
	os.Chmod(rig.rc, 0o644)
	code, out := runCmd(t, "-f", rig.rc, "--maildir", rig.maildir)
	if code != 6 {
		t.Errorf("exit %d, want 6", code)
	}
	if !strings.Contains(out, rig.rc) {
		t.Errorf("the refusal does not name the file:\n%s", out)
	}
	if n := len(rig.mbox.Messages()); n != len(demoMessages) {
		t.Error("mail was touched despite the refused rc file")
	}
}

func TestSSHTunnelOption(t *testing.T) {
	rig := newRig(t)
	rc := strings.Join([]string{
		fmt.Sprintf("set idfile %q", filepath.Join(rig.dir, "fetchids")),
		"poll popserver proto pop3 port 110 sshtunnel popserver",
		"  user msingh password foobar",
		"",
	}, "\n")
	os.WriteFile(rig.rc, []byte(rc), 0o600)
	if code, _ := runCmd(t, "-f", rig.rc, "--maildir", rig.maildir); code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	if n := len(maildirFiles(t, rig.maildir)); n != len(demoMessages) {
		t.Errorf("%d delivered, want %d", n, len(demoMessages))
	}
}

func TestDemo(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	var out bytes.Buffer
	if code := runDemo([]string{t.TempDir()}, &out, &out); code != 0 {
		t.Fatalf("demo exit %d:\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "demo OK") {
		t.Errorf("demo output:\n%s", out.String())
	}
}

func TestMboxFlagReplacesRCMaildir(t *testing.T) {
	rig := newRig(t)
	rc := strings.Replace(seedRC(rig.dir), "password foobar;", "password foobar maildir \"rcmaildir\";", 1)
	os.WriteFile(rig.rc, []byte(rc), 0o600)
	mbox := filepath.Join(rig.dir, "inbox.mbox")
	if code, _ := runCmd(t, "-f", rig.rc, "--mbox", mbox); code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	data, err := os.ReadFile(mbox)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "\nFrom ") + 1; !strings.HasPrefix(string(data), "From ") || n != len(demoMessages) {
		t.Errorf("mbox holds %d messages, want %d:\n%s", n, len(demoMessages), data)
	}
	if _, err := os.Stat(filepath.Join(rig.dir, "rcmaildir")); err == nil {
		t.Error("the rc file's maildir was used despite --mbox")
	}
}

// -v -v adds fetchmail's extra diagnostics (here: the SSH connection and
// channel, the UID decisions, the delivery) to -v's protocol trace, and
// never shows the POP3 password.
func TestVerboseTwiceEndToEnd(t *testing.T) {
	extra := []string{"SSH: new connection to 127.0.0.1:", "SSH: direct-tcpip channel opened to ", "1 is unseen (UID ",
		"about to deliver message 1 ", "login methods to try, in order: ", "deliveries made durable (fsync)"}
	for _, args := range [][]string{{"-v"}, {"-v", "-v"}, {"-vv"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			rig := newRig(t)
			code, out := runCmd(t, append([]string{"-f", rig.rc, "--maildir", rig.maildir}, args...)...)
			if code != 0 {
				t.Fatalf("exit %d, want 0", code)
			}
			if !strings.Contains(out, "POP3> STAT") {
				t.Errorf("no protocol trace")
			}
			twice := len(args) == 2 || args[0] == "-vv"
			for _, x := range extra {
				if has := strings.Contains(out, x); has != twice {
					t.Errorf("%v: %q present = %v", args, x, has)
				}
			}
			if strings.Contains(out, "foobar") {
				t.Error("the password appears in the output")
			}
		})
	}
}

package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"

	gossh "golang.org/x/crypto/ssh"

	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
	"github.com/gofetchmail/gofetchmail/transport/sshtest"
)

// demoMessages are the sample mailbox of `gofetchmail demo`: plain text, a
// line that starts with a dot, 8-bit text and a MIME message.
var demoMessages = []pop3test.Message{
	{UID: "demo-0001", Data: []byte("From: Alice <alice@popserver>\nTo: msingh@popserver\nSubject: Welcome to gofetchmail\nDate: Fri, 27 Nov 2026 09:00:00 +0000\nMessage-ID: <demo-1@popserver>\n\nThis message came through an in-process SSH channel.\nNo ssh process, no local port, no sleep.\n")},
	{UID: "demo-0002", Data: []byte("From: Bob <bob@popserver>\nTo: msingh@popserver\nSubject: Dots\nDate: Fri, 27 Nov 2026 09:01:00 +0000\nMessage-ID: <demo-2@popserver>\n\nThe next line is a single dot, dot-stuffed on the wire:\n.\n..and this one starts with two.\n")},
	{UID: "demo-0003", Data: []byte("From: =?UTF-8?Q?Ren=C3=A9e?= <renee@popserver>\nTo: msingh@popserver\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\nDate: Fri, 27 Nov 2026 09:02:00 +0000\nMessage-ID: <demo-3@popserver>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nGrüße aus Köln — 8-bit text arrives byte for byte.\n")},
	{UID: "demo-0004", Data: []byte("From: Carol <carol@popserver>\nTo: msingh@popserver\nSubject: MIME\nDate: Fri, 27 Nov 2026 09:03:00 +0000\nMessage-ID: <demo-4@popserver>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n--b1\nContent-Type: text/plain\n\nSee the attachment.\n--b1\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\naGVsbG8gZnJvbSBnb2ZldGNobWFpbA==\n--b1--\n")},
}

// demoRig is the embedded world of the demo (and of the end-to-end tests):
// a POP3 server, an SSH server whose "popserver:110" is that POP3 server, a
// HOME with ~/.ssh/config, a key and known_hosts, and a seed rc file.
type demoRig struct {
	dir, home, sshDir, rc, maildir string
	mbox                           *pop3test.Mailbox
	pop                            *pop3test.Server
	ssh                            *sshtest.Server
}

func (r *demoRig) close() {
	r.ssh.Close()
	r.pop.Close()
}

// seedRC is the seed recipe's rc file; idfile and pidfile are kept in dir.
func seedRC(dir string) string {
	return strings.Join([]string{
		"# The seed recipe's rc file, unchanged: gofetchmail turns the ssh -L",
		"# preconnect into an in-process SSH channel.",
		fmt.Sprintf("set idfile %q", filepath.Join(dir, "fetchids")),
		fmt.Sprintf("set pidfile %q", filepath.Join(dir, "gofetchmail.pid")),
		"defaults",
		"user msingh is manish",
		"no rewrite",
		"poll localhost with protocol pop3 and port 11110:",
		`preconnect "ssh -C -f msingh@popserver -L 11110:popserver:110 sleep 5"`,
		"password foobar;",
		"",
	}, "\n")
}

func newDemoRig(dir string, msgs []pop3test.Message) (*demoRig, error) {
	r := &demoRig{dir: dir, home: filepath.Join(dir, "home")}
	r.sshDir = filepath.Join(r.home, ".ssh")
	r.rc = filepath.Join(dir, "fetchmailrc")
	r.maildir = filepath.Join(dir, "Maildir")
	if err := os.MkdirAll(r.sshDir, 0o700); err != nil {
		return nil, err
	}
	os.Chmod(r.home, 0o700)
	r.mbox = pop3test.NewMailbox("msingh", "foobar", msgs...)
	pop, err := pop3test.NewServer(r.mbox, nil)
	if err != nil {
		return nil, err
	}
	r.pop = pop
	signer, keyPEM, err := sshtest.GenerateKey()
	if err != nil {
		pop.Close()
		return nil, err
	}
	ssh, err := sshtest.NewServer(sshtest.ServerOptions{
		AuthorizedKeys: map[string][]gossh.PublicKey{"msingh": {signer.PublicKey()}},
		// The SSH server's "popserver:110" is the embedded POP3 server.
		Forward: func(host string, port int) (net.Conn, error) {
			if host != "popserver" || port != 110 {
				return nil, fmt.Errorf("demo: no route to %s:%d", host, port)
			}
			return net.Dial("tcp", pop.Addr)
		},
	})
	if err != nil {
		pop.Close()
		return nil, err
	}
	r.ssh = ssh
	keyFile := filepath.Join(r.sshDir, "id_ed25519")
	files := map[string]string{
		keyFile:                                string(keyPEM),
		filepath.Join(r.sshDir, "config"):      fmt.Sprintf("Host popserver\n  HostName 127.0.0.1\n  Port %d\n  User msingh\n  IdentityFile %s\n", ssh.Port(), keyFile),
		filepath.Join(r.sshDir, "known_hosts"): ssh.KnownHostsLine() + "\n",
		r.rc:                                   seedRC(dir),
	}
	for path, content := range files {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			r.close()
			return nil, err
		}
	}
	return r, nil
}

// runDemo starts an embedded SSH server and POP3 server on loopback, writes a
// throwaway rc file like the seed recipe's, and runs the real code path into
// ./gofetchmail-demo/Maildir.
func runDemo(args []string, stdout, stderr io.Writer) int {
	dir := "gofetchmail-demo"
	if len(args) > 0 {
		dir = args[0]
	}
	dir, _ = filepath.Abs(dir)
	rig, err := newDemoRig(dir, demoMessages)
	if err != nil {
		fmt.Fprintf(stderr, "gofetchmail demo: %v\n", err)
		return 1
	}
	defer rig.close()
	fmt.Fprintf(stdout, "gofetchmail demo\n")
	fmt.Fprintf(stdout, "  embedded POP3 server  %s with %d messages for msingh\n", rig.pop.Addr, len(demoMessages))
	fmt.Fprintf(stdout, "  embedded SSH server   %s (its key is in %s)\n", rig.ssh.Addr, filepath.Join(rig.sshDir, "known_hosts"))
	fmt.Fprintf(stdout, "  rc file               %s\n", rig.rc)
	fmt.Fprintf(stdout, "  running: HOME=%s gofetchmail -f %s --maildir %s\n\n", rig.home, rig.rc, rig.maildir)

	oldHome := os.Getenv("HOME")
	os.Setenv("HOME", rig.home)
	os.Unsetenv("SSH_AUTH_SOCK")
	code := run([]string{"-f", rig.rc, "--maildir", rig.maildir}, stdout, stdout)
	os.Setenv("HOME", oldHome)

	delivered, _ := filepath.Glob(filepath.Join(rig.maildir, "new", "*"))
	fmt.Fprintf(stdout, "\nexit status %d; %d messages in %s/new; %d left on the server; %d SSH channels opened\n",
		code, len(delivered), rig.maildir, len(rig.mbox.Messages()), rig.ssh.ForwardCount())
	if code != 0 || len(rig.mbox.Messages()) != 0 {
		fmt.Fprintln(stderr, "gofetchmail demo: FAILED")
		return 1
	}
	fmt.Fprintln(stdout, "demo OK: read the messages with e.g. `mutt -f "+rig.maildir+"`")
	return 0
}

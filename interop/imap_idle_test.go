//go:build interop

package interop

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/interop/internal/rigmail"
)

// TestIMAPIdleTwoAccounts runs one daemon (-d 3600, so no second poll
// cycle within the test) with two idle entries on the rig's dovecot: INBOX
// through 127.0.0.1, folder Work through localhost with keep. Mail
// delivered to either folder while the daemon idles must arrive through
// IDLE alone.
func TestIMAPIdleTwoAccounts(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	msgs := rigmail.Generate(8, 2048)
	fillFolders(t, map[string][]rigmail.Message{"INBOX": msgs[:2], "Work": msgs[2:4]})
	rc := fmt.Sprintf(`set idfile %q
defaults
user msingh is manish
no rewrite
poll 127.0.0.1 with protocol imap and port %[2]s
  user msingh there is manish here password foobar sslproto '' idle
poll localhost with protocol imap and port %[2]s
  user msingh there is manish here password foobar sslproto '' idle keep folder Work
`, filepath.Join(h.dir, "ids"), rig["RIG_IMAP_PORT"])
	writeFile(t, filepath.Join(h.dir, "fetchmailrc"), rc, 0o600)
	env := append(h.env(), "FETCHMAILHOME="+h.dir)
	logfile := filepath.Join(h.dir, "daemon.log")
	d := exec.Command(binary, "-d", "3600", "-N", "-v", "-L", logfile, "--maildir", h.maildir())
	d.Dir, d.Env = h.dir, env
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- d.Wait() }()
	defer func() {
		d.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("daemon log:\n%s", readLog(logfile))
		}
	}()
	count := func() int { n, _ := rigmail.Count(h.maildir()); return n }
	waitFor(t, "the first polls", func() bool { return count() == 4 })
	idling := func(n int) bool {
		return strings.Count(readLog(logfile), "IMAP> ") > 0 && strings.Count(readLog(logfile), "IDLE on folder") >= n
	}
	waitFor(t, "both sessions to idle", func() bool { return idling(2) })
	for i, c := range []struct {
		folder string
		msg    rigmail.Message
	}{{"INBOX", msgs[4]}, {"Work", msgs[5]}, {"Work", msgs[6]}, {"INBOX", msgs[7]}} {
		start := time.Now()
		addFolderMail(t, c.folder, []rigmail.Message{c.msg})
		waitFor(t, fmt.Sprintf("message %d (%s) through IDLE", i+1, c.folder), func() bool { return count() == 5+i })
		t.Logf("message %d in %s delivered %v after it reached the server", i+1, c.folder, time.Since(start).Round(time.Millisecond))
	}
	verify(t, h.maildir(), 8)
	folderHolds(t, "INBOX", 0)
	folderHolds(t, "Work", 4)
	if log := readLog(logfile); strings.Contains(log, "foobar") {
		t.Error("the password is in the daemon log")
	}
}

// TestIMAPIdleOverSSHOutlasts30s idles through the in-process SSH channel
// (the HOWTO's ssh -L preconnect) for longer than go-imap's 30 s command
// deadlines, which would close an SSH channel conn if they reached it, and
// then expects mail to arrive through IDLE on the same session.
func TestIMAPIdleOverSSHOutlasts30s(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	msgs := rigmail.Generate(2, 2048)
	fillFolders(t, map[string][]rigmail.Message{"INBOX": msgs[:1]})
	rc := fmt.Sprintf(`set idfile %q
defaults
user msingh is manish
no rewrite
poll localhost with protocol imap and port 11143:
preconnect "ssh -C -f msingh@popserver -L 11143:127.0.0.1:%s sleep 5"
password foobar idle;
`, filepath.Join(h.dir, "ids"), rig["RIG_IMAP_PORT"])
	writeFile(t, filepath.Join(h.dir, "fetchmailrc"), rc, 0o600)
	env := append(h.env(), "FETCHMAILHOME="+h.dir)
	logfile := filepath.Join(h.dir, "daemon.log")
	d := exec.Command(binary, "-d", "3600", "-N", "-v", "-L", logfile, "--maildir", h.maildir())
	d.Dir, d.Env = h.dir, env
	var out strings.Builder
	d.Stdout, d.Stderr = &out, &out
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- d.Wait() }()
	defer func() {
		d.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("daemon output:\n%s\ndaemon log:\n%s", out.String(), readLog(logfile))
		}
	}()
	count := func() int { n, _ := rigmail.Count(h.maildir()); return n }
	waitFor(t, "the first poll", func() bool { return count() == 1 })
	waitFor(t, "the session to idle", func() bool { return strings.Contains(readLog(logfile), "IDLE on folder") })
	time.Sleep(35 * time.Second)
	addFolderMail(t, "INBOX", msgs[1:])
	waitFor(t, "the message through IDLE", func() bool { return count() == 2 })
	verify(t, h.maildir(), 2)
	log := readLog(logfile)
	if strings.Contains(log, "IDLE session on folder INBOX ended") || strings.Count(log, "in-process SSH channel") != 1 {
		t.Errorf("the IDLE session did not last:\n%s", log)
	}
}

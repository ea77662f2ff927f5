//go:build interop

package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestProcmailMDA delivers the rig's mail through a real procmail, run as
// fetchmail's mda option runs it (/bin/sh -c, once per message, the
// message on standard input), with an rcfile that stores into a Maildir.
// Every message must arrive intact and leave the server.
func TestProcmailMDA(t *testing.T) {
	const procmail = "/usr/bin/procmail"
	if _, err := os.Stat(procmail); err != nil {
		t.Skip("procmail is not installed (apt-get install procmail)")
	}
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	maildir := filepath.Join(h.dir, "pm", "Maildir") + "/"
	// procmail makes the Maildir but not its parent (without it, procmail
	// retries for minutes before it gives up).
	if err := os.Mkdir(filepath.Join(h.dir, "pm"), 0o700); err != nil {
		t.Fatal(err)
	}
	rcfile := filepath.Join(h.dir, "procmailrc")
	writeFile(t, rcfile, fmt.Sprintf("LOGFILE=%s\nDEFAULT=%s\n", filepath.Join(h.dir, "procmail.log"), maildir), 0o600)
	fill(t, 20)
	rc := fmt.Sprintf(`poll 127.0.0.1 with protocol pop3 and port %s
  user msingh there is manish here password foobar sslproto '' no rewrite
  mda "%s -m %s"
`, rig["RIG_POP3_PORT"], procmail, rcfile)
	r := h.runArgs(t, "-f", h.rc(t, rc))
	expectExit(t, r, 0)
	verify(t, maildir, 20)
	serverHolds(t, 0)
}

// TestFailingMDAKeepsMail expects an MDA that exits 75 (EX_TEMPFAIL) to
// leave every message on the server.
func TestFailingMDAKeepsMail(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	fill(t, 3)
	rc := fmt.Sprintf(`poll 127.0.0.1 with protocol pop3 and port %s
  user msingh there is manish here password foobar sslproto ''
  mda "cat >/dev/null; exit 75"
`, rig["RIG_POP3_PORT"])
	r := h.runArgs(t, "-f", h.rc(t, rc))
	if r.code == 0 {
		t.Errorf("a failing MDA exited 0:\n%v", r)
	}
	serverHolds(t, 3)
}

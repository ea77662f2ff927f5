//go:build interop

package interop

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// lmtpFolder returns the rig's LMTP socket and a fresh folder name; the
// test is skipped when the rig runs without RIG_LMTP=1.
func lmtpFolder(t *testing.T) (socket, folder string) {
	t.Helper()
	socket = rig["RIG_LMTP_SOCKET"]
	if socket == "" {
		t.Skip("the rig has no LMTP socket: run scripts/rig-up with RIG_LMTP=1")
	}
	return socket, fmt.Sprintf("lmtp%d", time.Now().UnixNano())
}

// lmtpDelivered copies the messages dovecot's LMTP stored in folder of the
// rig user's Maildir into a fresh maildir, without the Return-Path header
// dovecot puts on top, so that rigmail.Verify can compare them with the
// originals.
func lmtpDelivered(t *testing.T, folder string) string {
	t.Helper()
	src := filepath.Join(rig["RIG_MAILDIR"], "."+folder)
	dst := filepath.Join(t.TempDir(), "Maildir")
	for _, sub := range []string{"new", "cur", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dst, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, sub := range []string{"new", "cur"} {
		ents, err := os.ReadDir(filepath.Join(src, sub))
		if err != nil {
			t.Fatalf("dovecot stored nothing in the folder %s: %v", folder, err)
		}
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(src, sub, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b, []byte("Return-Path: ")) {
				t.Errorf("%s: dovecot added no Return-Path", e.Name())
			} else if i := bytes.IndexByte(b, '\n'); i >= 0 {
				b = b[i+1:]
			}
			writeFile(t, filepath.Join(dst, sub, e.Name()), string(b), 0o600)
		}
	}
	return dst
}

// TestLMTPSocketDelivery fetches the rig's mail over POP3 and forwards it
// through dovecot's LMTP socket ("lmtp" and an smtphost that is a socket
// path, no --maildir): every message must arrive intact in the folder that
// the recipient's +detail names, and leave the POP3 mailbox.
func TestLMTPSocketDelivery(t *testing.T) {
	socket, folder := lmtpFolder(t)
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	fill(t, 20)
	rc := fmt.Sprintf(`poll 127.0.0.1 with protocol pop3 and port %s
  user msingh there is msingh+%s here password foobar sslproto '' no rewrite
  lmtp smtphost %s
`, rig["RIG_POP3_PORT"], folder, socket)
	expectExit(t, h.runArgs(t, "-f", h.rc(t, rc)), 0)
	verify(t, lmtpDelivered(t, folder), 20)
	serverHolds(t, 0)
}

// TestLMTPUnknownUserKeepsMail forwards to a recipient dovecot does not
// know: LMTP refuses it permanently (5xx), and under softbounce, the
// default, the mail stays on the POP3 server.
func TestLMTPUnknownUserKeepsMail(t *testing.T) {
	socket, _ := lmtpFolder(t)
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	fill(t, 3)
	rc := fmt.Sprintf(`poll 127.0.0.1 with protocol pop3 and port %s
  user msingh there is nosuchuser here password foobar sslproto ''
  lmtp smtphost %s
`, rig["RIG_POP3_PORT"], socket)
	r := h.runArgs(t, "-f", h.rc(t, rc))
	if r.code == 0 || !strings.Contains(r.stderr, "RCPT TO <nosuchuser@localhost>: 550") {
		t.Errorf("want a failed run that names the refused recipient:\n%v", r)
	}
	serverHolds(t, 3)
}

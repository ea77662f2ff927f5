//go:build interop

package interop

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gofetchmail/gofetchmail/interop/internal/rigmail"
)

// TestIMAPPlain fetches every kind of test message from dovecot's IMAP
// port and expects each delivered intact and expunged on the server.
func TestIMAPPlain(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	fill(t, 20)
	r := h.runArgs(t, "-f", h.rc(t, ownPid(h, imapRC(rig["RIG_IMAP_PORT"], "sslproto ''"))), "--maildir", h.maildir(), "-v")
	expectExit(t, r, 0)
	out := r.stdout + r.stderr
	if !strings.Contains(out, "IMAP> ") || strings.Contains(out, "foobar") {
		t.Errorf("no IMAP trace, or the password in it:\n%s", r)
	}
	verify(t, h.maildir(), 20)
	serverHolds(t, 0)
	expectExit(t, h.run(t, h.rc(t, ownPid(h, imapRC(rig["RIG_IMAP_PORT"], "sslproto ''")))), 1)
}

// TestIMAPStartTLS expects the mandatory STARTTLS (sslcertck on, no ssl)
// on dovecot's plain IMAP port, the certificate checked, and implicit TLS
// on the IMAPS port when the rig has one.
func TestIMAPStartTLS(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	fill(t, 5)
	r := h.runArgs(t, "-f", h.rc(t, ownPid(h, imapRC(rig["RIG_IMAP_PORT"], "sslcertck sslcertfile "+rig["RIG_TLS_CERT"]))), "--maildir", h.maildir(), "-v")
	expectExit(t, r, 0)
	out := r.stdout + r.stderr
	if !strings.Contains(out, "STARTTLS") || !strings.Contains(out, "TLS established") {
		t.Errorf("no STARTTLS in the trace:\n%s", r)
	}
	verify(t, h.maildir(), 5)
	serverHolds(t, 0)

	if rig["RIG_IMAPS_PORT"] == "" {
		t.Log("the rig has no IMAPS port (an older rig-up); implicit TLS not tested")
		return
	}
	h = newHome(t, rig["RIG_CLIENT_KEY"], true)
	fill(t, 5)
	md5fp, _ := certFingerprints(t)
	for i, extra := range []string{"ssl sslcertck sslcertfile " + rig["RIG_TLS_CERT"], fmt.Sprintf("ssl sslfingerprint %q", md5fp)} {
		r = h.runArgs(t, "-f", h.rc(t, ownPid(h, imapRC(rig["RIG_IMAPS_PORT"], extra+" keep"))), "--maildir", h.maildir())
		expectExit(t, r, i) // the second run finds nothing new: 1
	}
	verify(t, h.maildir(), 5)
	serverHolds(t, 5)
}

// TestIMAPOverSSH runs the HOWTO's ssh -L preconnect with protocol imap:
// gofetchmail reaches dovecot's IMAP through its own SSH channel.
func TestIMAPOverSSH(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	fill(t, 10)
	rc := fmt.Sprintf(`defaults
user msingh is manish
no rewrite
poll localhost with protocol imap and port 11143:
preconnect "ssh -C -f msingh@popserver -L 11143:127.0.0.1:%s sleep 5"
password foobar;
`, rig["RIG_IMAP_PORT"])
	hits := squat(t, "127.0.0.1:11143")
	r := h.runArgs(t, "-f", h.rc(t, ownPid(h, rc)), "--maildir", h.maildir(), "-v")
	expectExit(t, r, 0)
	if strings.Contains(r.stderr, "ssh must not be run") {
		t.Error("gofetchmail ran the ssh program")
	}
	if hits != nil && hits.Load() > 0 {
		t.Errorf("gofetchmail connected %d times to local port 11143 instead of through SSH", hits.Load())
	}
	if !strings.Contains(r.stdout+r.stderr, "in-process SSH channel") {
		t.Errorf("the route is not the in-process SSH channel:\n%s", r)
	}
	verify(t, h.maildir(), 10)
	serverHolds(t, 0)
}

// TestIMAPPluginPreauth runs plugin "ssh popserver /usr/lib/dovecot/imap"
// with auth ssh: an SSH exec channel on the real sshd runs dovecot's imap
// as msingh, which greets with PREAUTH; no credentials are sent.
func TestIMAPPluginPreauth(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	fill(t, 5)
	cmd := fmt.Sprintf("ssh popserver exec env HOME=%s/mail/msingh /usr/lib/dovecot/imap -c %s/dovecot/dovecot.conf -o stats_writer_socket_path=",
		rig["RIG_DIR"], rig["RIG_DIR"])
	rc := fmt.Sprintf(`defaults
user msingh is manish
no rewrite
poll 127.0.0.1 with protocol imap auth ssh
  plugin "%s"
  user msingh there is manish here
`, cmd)
	r := h.runArgs(t, "-f", h.rc(t, ownPid(h, rc)), "--maildir", h.maildir(), "-v")
	expectExit(t, r, 0)
	out := r.stdout + r.stderr
	if strings.Contains(out, "ssh must not be run") {
		t.Error("gofetchmail ran the ssh program")
	}
	if !strings.Contains(out, "SSH exec channel") || !strings.Contains(out, "PREAUTH") {
		t.Errorf("not an exec channel with a PREAUTH greeting:\n%s", r)
	}
	if regexp.MustCompile(`IMAP> \S+ (LOGIN|AUTHENTICATE)`).MatchString(out) {
		t.Errorf("credentials were sent to a pre-authenticated session:\n%s", r)
	}
	verify(t, h.maildir(), 5)
	serverHolds(t, 0)
}

// TestIMAPFolders polls INBOX and a second folder, unseen only: a message
// already read in the folder stays.
func TestIMAPFolders(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	msgs := rigmail.Generate(9, 2048)
	fillFolders(t, map[string][]rigmail.Message{"INBOX": msgs[:4], "Work": msgs[4:]})
	c := otherClient(t, "Work")
	all, err := c.Search(context.Background(), imapQueryAll)
	if err != nil || len(all) != 5 {
		t.Fatalf("Work: %v %v", all, err)
	}
	if err := c.Store(context.Background(), all[:1], `\Seen`); err != nil {
		t.Fatal(err)
	}
	c.Close()
	// The read message is not expected.
	os.Remove(filepath.Join(rig["RIG_ORIGINALS"], findOriginal(t, "Work", 0)))
	r := h.run(t, h.rc(t, ownPid(h, imapRC(rig["RIG_IMAP_PORT"], "sslproto '' folder INBOX,Work"))))
	expectExit(t, r, 0)
	verify(t, h.maildir(), 8)
	folderHolds(t, "INBOX", 0)
	folderHolds(t, "Work", 1)
}

// TestIMAPKeepAndOtherClient: keep leaves the mail (marked \Seen); new
// mail that another client reads before the next poll is still fetched
// once; nothing is fetched twice.
func TestIMAPKeepAndOtherClient(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	msgs := rigmail.Generate(8, 2048)
	fillFolders(t, map[string][]rigmail.Message{"INBOX": msgs[:5]})
	rc := h.rc(t, ownPid(h, imapRC(rig["RIG_IMAP_PORT"], "sslproto '' keep")))
	expectExit(t, h.run(t, rc), 0)
	verify(t, h.maildir(), 5)
	serverHolds(t, 5)

	addFolderMail(t, "INBOX", msgs[5:])
	c := otherClient(t, "INBOX")
	all, err := c.Search(context.Background(), imapQueryAll)
	if err != nil || len(all) != 8 {
		t.Fatalf("INBOX: %v %v", all, err)
	}
	if err := c.Store(context.Background(), all, `\Seen`); err != nil { // the other client reads everything
		t.Fatal(err)
	}
	c.Close()
	expectExit(t, h.run(t, rc), 0)
	verify(t, h.maildir(), 8)
	expectExit(t, h.run(t, rc), 1)
	verify(t, h.maildir(), 8)
	serverHolds(t, 8)
	ids, err := os.ReadFile(filepath.Join(h.dir, ".fetchids"))
	if err != nil || !strings.Contains(string(ids), "msingh@127.0.0.1/INBOX ") {
		t.Errorf("idfile: %v\n%s", err, ids)
	}
}

// TestIMAPUIDValidityChange: the folder is deleted and made again on the
// server (new UIDVALIDITY); the next keep poll logs it and fetches the
// new folder's unseen mail.
func TestIMAPUIDValidityChange(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	msgs := rigmail.Generate(6, 2048)
	fillFolders(t, map[string][]rigmail.Message{"Rebuilt": msgs[:3]})
	rc := h.rc(t, ownPid(h, imapRC(rig["RIG_IMAP_PORT"], "sslproto '' keep folder Rebuilt")))
	expectExit(t, h.run(t, rc), 0)
	verify(t, h.maildir(), 3)
	if err := os.RemoveAll(folderDir("Rebuilt")); err != nil {
		t.Fatal(err)
	}
	fillFolders(t, map[string][]rigmail.Message{"Rebuilt": msgs[3:]})
	addOriginals(t, msgs[:3]) // delivered by the first run
	r := h.run(t, rc)
	expectExit(t, r, 0)
	if !strings.Contains(r.stdout+r.stderr, "UIDVALIDITY of folder Rebuilt changed") {
		t.Errorf("the UIDVALIDITY change is not reported:\n%s", r)
	}
	verify(t, h.maildir(), 6)
}

// TestIMAPExitCodes: a password dovecot refuses is 3, nothing listening is
// 2, protocol imap against the POP3 port is 4; the mail is left alone.
func TestIMAPExitCodes(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	fill(t, 3)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, closed, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	for _, c := range []struct {
		name, rc string
		want     int
	}{
		{"wrong password", strings.Replace(imapRC(rig["RIG_IMAP_PORT"], "sslproto ''"), "password foobar", "password wrong", 1), 3},
		{"nothing listens", imapRC(closed, "sslproto ''"), 2},
		{"a POP3 server", imapRC(rig["RIG_POP3_PORT"], "sslproto ''"), 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			expectExit(t, h.run(t, h.rc(t, ownPid(h, c.rc))), c.want)
			serverHolds(t, 3)
		})
	}
}

// TestIMAPAuthAndAuto: auth password (LOGIN) and cram-md5 against
// dovecot's IMAP, and protocol auto, which finds IMAP on the IMAP port and
// falls back to POP3 on the POP3 port.
func TestIMAPAuthAndAuto(t *testing.T) {
	cases := []struct {
		name, port, proto, extra, want string
	}{
		{"password", rig["RIG_IMAP_PORT"], "imap", "auth password", `IMAP> T1 LOGIN "msingh" ***`},
		{"cram-md5", rig["RIG_IMAP_PORT"], "imap", "auth cram-md5", "IMAP> T1 AUTHENTICATE CRAM-MD5"},
		{"auto finds IMAP", rig["RIG_IMAP_PORT"], "auto", "", "(IMAP)"},
		{"auto falls back to POP3", rig["RIG_POP3_PORT"], "auto", "", "trying POP3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHome(t, rig["RIG_CLIENT_KEY"], true)
			fill(t, 3)
			rc := strings.Replace(imapRC(c.port, "sslproto ''"), "protocol imap", "protocol "+c.proto, 1)
			rc = strings.Replace(rc, "poll 127.0.0.1", "poll 127.0.0.1 "+c.extra, 1)
			r := h.runArgs(t, "-f", h.rc(t, ownPid(h, rc)), "--maildir", h.maildir(), "-v")
			expectExit(t, r, 0)
			if out := r.stdout + r.stderr; !strings.Contains(out, c.want) || strings.Contains(out, "foobar") {
				t.Errorf("the output lacks %q (or shows the password):\n%s", c.want, r)
			}
			verify(t, h.maildir(), 3)
			serverHolds(t, 0)
		})
	}
}

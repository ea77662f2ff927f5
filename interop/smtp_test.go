//go:build interop

package interop

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/interop/internal/rigmail"
)

// mtaDeliveryTimeout bounds the wait for postfix's queue manager to move a
// message from the queue into the maildir (it takes milliseconds on an idle
// machine; a loaded CI runner can take seconds).
const mtaDeliveryTimeout = 60 * time.Second

// mta returns the port of the rig's postfix after emptying its maildir, so
// that the test sees only its own messages; the test is skipped when the
// rig runs without RIG_MTA=1.
func mta(t *testing.T) string {
	t.Helper()
	port := rig["RIG_MTA_PORT"]
	if port == "" || rig["RIG_MTA_MAILDIR"] == "" {
		t.Skip("the rig has no MTA: run scripts/rig-up with RIG_MTA=1 (needs postfix)")
	}
	for _, sub := range []string{"new", "cur"} {
		dir := filepath.Join(rig["RIG_MTA_MAILDIR"], sub)
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	return port
}

// mtaMessage is one message postfix delivered, split into the header lines
// postfix's virtual agent and smtpd put on top and the rest.
type mtaMessage struct {
	name        string
	returnPath  string // postfix's Return-Path: the envelope sender
	deliveredTo string // postfix's Delivered-To: the RCPT TO address
	received    string // postfix's own Received header
	rest        []byte // what gofetchmail sent
}

// mtaDelivered waits until postfix's maildir holds n messages (and fails
// the test if it does not within mtaDeliveryTimeout), then returns them.
func mtaDelivered(t *testing.T, n int) []mtaMessage {
	return mtaDeliveredAtLeast(t, n, n)
}

// mtaDeliveredAtLeast waits until postfix's maildir holds at least least
// messages and returns them; with exact >= 0 it fails the test unless
// there are exactly that many.
func mtaDeliveredAtLeast(t *testing.T, exact, least int) []mtaMessage {
	t.Helper()
	var files []string
	deadline := time.Now().Add(mtaDeliveryTimeout)
	for {
		files = files[:0]
		for _, sub := range []string{"new", "cur"} {
			m, err := filepath.Glob(filepath.Join(rig["RIG_MTA_MAILDIR"], sub, "*"))
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, m...)
		}
		if len(files) >= least || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if (exact >= 0 && len(files) != exact) || len(files) < least {
		var got []string
		for _, f := range files {
			b, _ := os.ReadFile(f)
			got = append(got, filepath.Base(f)+": "+headerLine(b, "Delivered-To")+", "+headerLine(b, "Subject"))
		}
		t.Fatalf("postfix delivered %d messages within %v, want %d:\n%s\n(log: %s)\n%s",
			len(files), mtaDeliveryTimeout, max(exact, least), strings.Join(got, "\n"), rig["RIG_MTA_LOG"], mtaLogTail())
	}
	msgs := make([]mtaMessage, 0, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, splitMTAHeaders(t, filepath.Base(f), b))
	}
	return msgs
}

// splitMTAHeaders takes off the headers postfix adds, in the order it
// puts them: Return-Path, X-Original-To, Delivered-To (virtual(8)) and
// its Received line (smtpd(8)). Each must be there.
func splitMTAHeaders(t *testing.T, name string, b []byte) mtaMessage {
	t.Helper()
	m := mtaMessage{name: name}
	take := func(field string) string {
		prefix := []byte(field + ": ")
		if !bytes.HasPrefix(b, prefix) {
			t.Fatalf("%s: postfix's %s header is not where expected:\n%s", name, field, clipMsg(b))
		}
		end := 0
		for {
			i := bytes.IndexByte(b[end:], '\n')
			if i < 0 {
				t.Fatalf("%s: no end of headers", name)
			}
			end += i + 1
			if end >= len(b) || (b[end] != ' ' && b[end] != '\t') {
				break
			}
		}
		v := strings.TrimSpace(string(b[len(prefix):end]))
		b = b[end:]
		return v
	}
	m.returnPath = take("Return-Path")
	take("X-Original-To")
	m.deliveredTo = take("Delivered-To")
	m.received = take("Received")
	if !strings.Contains(m.received, "(Postfix)") {
		t.Errorf("%s: the first Received line is not postfix's: %s", name, m.received)
	}
	m.rest = b
	return m
}

// mtaVerify writes what gofetchmail sent into a fresh maildir and checks
// with rigmail.Verify that, apart from gofetchmail's own Received line, it
// is the n originals byte for byte.
func mtaVerify(t *testing.T, msgs []mtaMessage, n int) {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "Maildir")
	for _, sub := range []string{"new", "cur", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dst, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range msgs {
		if !bytes.HasPrefix(m.rest, []byte("Received: from 127.0.0.1")) {
			t.Errorf("%s: gofetchmail's Received line is missing under postfix's:\n%s", m.name, clipMsg(m.rest))
		}
		writeFile(t, filepath.Join(dst, "new", m.name), string(m.rest), 0o600)
	}
	verify(t, dst, n)
}

// originalReturnPath returns the Return-Path header value of an original
// message (rigmail's messages each carry one), which gofetchmail uses as
// the envelope sender.
func originalReturnPath(t *testing.T, msg []byte) string {
	t.Helper()
	rest := rigmail.StripReceived(msg)
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	v, ok := bytes.CutPrefix(line, []byte("Return-Path: "))
	if !ok {
		t.Fatalf("no Return-Path at the top of %q", clipMsg(rest))
	}
	return string(v)
}

// headerLine returns the first "Name: value" line of msg's header, or "".
func headerLine(msg []byte, name string) string {
	for _, line := range strings.Split(string(msg), "\n") {
		if line == "" {
			break
		}
		if strings.HasPrefix(strings.ToLower(line), strings.ToLower(name)+":") {
			return line
		}
	}
	return ""
}

func mtaLogTail() string {
	data, err := os.ReadFile(rig["RIG_MTA_LOG"])
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-15):], "\n")
}

func clipMsg(b []byte) string {
	if len(b) > 400 {
		return string(b[:400]) + "..."
	}
	return string(b)
}

// deadPort returns a loopback port nothing listens on.
func deadPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	return port
}

// TestSMTPForwardToPostfix fetches the rig's mail from dovecot over POP3
// and forwards it to the rig's real postfix (smtphost HOST/PORT with
// smtpaddress): postfix must deliver every message, with gofetchmail's
// Received line the only change, MAIL FROM the message's Return-Path and
// RCPT TO the local user at smtpaddress; the POP3 mailbox is then empty.
func TestSMTPForwardToPostfix(t *testing.T) {
	port := mta(t)
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	fill(t, 20)
	rc := fmt.Sprintf(`poll 127.0.0.1 with protocol pop3 and port %s
  user msingh there is msingh here password foobar sslproto ''
  smtphost 127.0.0.1/%s smtpaddress rig.example
`, rig["RIG_POP3_PORT"], port)
	expectExit(t, h.runArgs(t, "-f", h.rc(t, rc)), 0)
	msgs := mtaDelivered(t, 20)
	for _, m := range msgs {
		if m.deliveredTo != "msingh@rig.example" {
			t.Errorf("%s: RCPT TO <%s>, want <msingh@rig.example>", m.name, m.deliveredTo)
		}
		if want := originalReturnPath(t, m.rest); m.returnPath != want {
			t.Errorf("%s: MAIL FROM %s, want the message's Return-Path %s", m.name, m.returnPath, want)
		}
	}
	mtaVerify(t, msgs, 20)
	serverHolds(t, 0)
}

// TestSMTPHuntListSkipsDeadHost gives a hunt list whose first host does
// not answer: the mail goes to the second (postfix), and without
// smtpaddress RCPT TO names the local user at the host that answered, as
// fetchmail does.
func TestSMTPHuntListSkipsDeadHost(t *testing.T) {
	port := mta(t)
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	fill(t, 5)
	rc := fmt.Sprintf(`poll 127.0.0.1 with protocol pop3 and port %s
  user msingh there is msingh here password foobar sslproto ''
  smtphost 127.0.0.1/%s localhost/%s
`, rig["RIG_POP3_PORT"], deadPort(t), port)
	expectExit(t, h.runArgs(t, "-f", h.rc(t, rc)), 0)
	msgs := mtaDelivered(t, 5)
	for _, m := range msgs {
		if m.deliveredTo != "msingh@localhost" {
			t.Errorf("%s: RCPT TO <%s>, want <msingh@localhost>", m.name, m.deliveredTo)
		}
	}
	mtaVerify(t, msgs, 5)
	serverHolds(t, 0)
}

// TestSMTPNameReplacesRecipient sets smtpname: RCPT TO is exactly that
// address, whatever the local name.
func TestSMTPNameReplacesRecipient(t *testing.T) {
	port := mta(t)
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	fill(t, 3)
	rc := fmt.Sprintf(`poll 127.0.0.1 with protocol pop3 and port %s
  user msingh there is msingh here password foobar sslproto ''
  smtphost 127.0.0.1/%s smtpname fetched@rig.example
`, rig["RIG_POP3_PORT"], port)
	expectExit(t, h.runArgs(t, "-f", h.rc(t, rc)), 0)
	msgs := mtaDelivered(t, 3)
	for _, m := range msgs {
		if m.deliveredTo != "fetched@rig.example" {
			t.Errorf("%s: RCPT TO <%s>, want <fetched@rig.example>", m.name, m.deliveredTo)
		}
	}
	mtaVerify(t, msgs, 3)
	serverHolds(t, 0)
}

// TestSMTPTemporaryRefusalKeepsMail forwards to a recipient postfix defers
// at RCPT time (450): every message stays on the POP3 server and postfix
// queues nothing.
func TestSMTPTemporaryRefusalKeepsMail(t *testing.T) {
	port := mta(t)
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	fill(t, 3)
	rc := fmt.Sprintf(`poll 127.0.0.1 with protocol pop3 and port %s
  user msingh there is tempfail here password foobar sslproto ''
  smtphost 127.0.0.1/%s smtpaddress rig.example
`, rig["RIG_POP3_PORT"], port)
	r := h.runArgs(t, "-f", h.rc(t, rc))
	if !strings.Contains(r.stderr, "RCPT TO <tempfail@rig.example>: 450") {
		t.Errorf("want the deferred recipient named in the log:\n%v", r)
	}
	serverHolds(t, 3)
	mtaDelivered(t, 0)
}

// TestSMTPPermanentRefusalGoesToPostmaster forwards to a recipient postfix
// refuses (550): as fetchmail 6.4 does, under softbounce (the default)
// too, the message goes to the postmaster instead ("no address matches;
// forwarding to postmaster") and leaves the server. The real fetchmail is
// run in the same situation and must do the same.
func TestSMTPPermanentRefusalGoesToPostmaster(t *testing.T) {
	rc := func(port string) string {
		return fmt.Sprintf(`set no syslog
set postmaster "pm"
poll 127.0.0.1 with protocol pop3 and port %s
  user msingh there is reject here password foobar sslproto ''
  smtphost 127.0.0.1/%s smtpaddress rig.example
`, rig["RIG_POP3_PORT"], port)
	}
	// n counts the bounces too: gofetchmail's bounces to the senders
	// (at example.org, which the rig's postfix does not relay to) end
	// at the postmaster as well; fetchmail sends its bounces to
	// localhost:25, where nothing listens.
	check := func(t *testing.T, who string, r result, n int) {
		t.Helper()
		serverHolds(t, 0)
		forwarded := 0
		for _, m := range mtaDelivered(t, n) {
			if m.deliveredTo != "pm@rig.example" {
				t.Errorf("%s: %s went to <%s>, want the postmaster pm@rig.example\n%v", who, m.name, m.deliveredTo, r)
			}
			if !bytes.Contains(m.rest, []byte("Subject: Mail delivery failed")) {
				forwarded++
			}
		}
		if forwarded != 2 {
			t.Errorf("%s: %d of the 2 messages went to the postmaster\n%v", who, forwarded, r)
		}
	}
	port := mta(t)
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	fill(t, 2)
	r := h.runArgs(t, "-f", h.rc(t, rc(port)))
	expectExit(t, r, 0)
	if !strings.Contains(r.stderr, "RCPT TO <reject@rig.example>: 550") || !strings.Contains(r.stderr, "forwarding to the postmaster <pm@rig.example>") {
		t.Errorf("want the refused recipient and the postmaster named in the log:\n%v", r)
	}
	check(t, "gofetchmail", r, 4)

	fm := realFetchmail()
	if fm == "" {
		t.Skip("fetchmail is not installed: no comparison")
	}
	port = mta(t)
	fill(t, 2)
	fr := newRetriever(t, fm, fm)
	fr.rc(t, rc(port), 0o600)
	res := fr.run(t)
	if res.code != 0 {
		t.Errorf("fetchmail exited %d, gofetchmail 0:\n%v", res.code, res)
	}
	check(t, "fetchmail", res, 2)
}

// TestSMTPBounceThroughPostfix: a message postfix refuses (550 at RCPT)
// goes to the postmaster, and a bounce from the null sender goes, through
// postfix, to the message's sender (an address postfix delivers here),
// naming the refused recipient and postfix's reply; the message leaves the
// server.
func TestSMTPBounceThroughPostfix(t *testing.T) {
	port := mta(t)
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	fillMessages(t, []rigmail.Message{{Name: "0001.eml", Data: []byte(
		"Return-Path: <author@rig.example>\nFrom: Author <author@rig.example>\nTo: reject@rig.example\n" +
			"Subject: to be refused\nMessage-ID: <bounce-1@gofetchmail.test>\n\nbody\n")}})
	rc := fmt.Sprintf(`set no softbounce
set postmaster "pm"
poll 127.0.0.1 with protocol pop3 and port %s
  user msingh there is reject here password foobar sslproto ''
  smtphost 127.0.0.1/%s smtpaddress rig.example
`, rig["RIG_POP3_PORT"], port)
	r := h.runArgs(t, "-f", h.rc(t, rc))
	if !strings.Contains(r.stdout+r.stderr, "bounced to author@rig.example") {
		t.Errorf("want the bounce logged:\n%v", r)
	}
	serverHolds(t, 0)
	msgs := mtaDelivered(t, 2)
	var b mtaMessage
	for _, m := range msgs {
		if m.returnPath == "<>" {
			b = m
		} else if m.deliveredTo != "pm@rig.example" {
			t.Errorf("%s went to <%s>, want the postmaster pm@rig.example", m.name, m.deliveredTo)
		}
	}
	if b.deliveredTo != "author@rig.example" || b.returnPath != "<>" {
		t.Errorf("bounce envelope: MAIL FROM %s RCPT TO <%s>, want <> and author@rig.example", b.returnPath, b.deliveredTo)
	}
	for _, want := range []string{
		"Content-Type: multipart/report; report-type=delivery-status;",
		"Final-Recipient: rfc822; reject@rig.example\n",
		"Status: 5.1.1\n",
		"Diagnostic-Code: smtp; 550 5.1.1 <reject@rig.example>: Recipient address rejected",
		"Message-ID: <bounce-1@gofetchmail.test>\n",
	} {
		if !bytes.Contains(b.rest, []byte(want)) {
			t.Errorf("the bounce lacks %q:\n%s", want, b.rest)
		}
	}
}

// TestSMTPOversizedWarningThroughPostfix: a detached daemon (-d) whose
// limit leaves the large messages on the server mails the local user
// fetchmail's warning through postfix (RCPT TO the local user at
// smtpaddress). A one-shot run sends none, as fetchmail.
func TestSMTPOversizedWarningThroughPostfix(t *testing.T) {
	port := mta(t)
	r := newRetriever(t, "gofetchmail", binary)
	r.rc(t, fmt.Sprintf(`poll 127.0.0.1 with protocol pop3 and port %s
  user msingh there is msingh here password foobar sslproto ''
  smtphost 127.0.0.1/%s smtpaddress rig.example limit 1000
`, rig["RIG_POP3_PORT"], port), 0o600)
	fill(t, 3) // 2048-octet messages and larger

	if res := r.runRaw(t); res.code != 1 || strings.Contains(res.stdout+res.stderr, "warning sent") {
		t.Errorf("one-shot run: %v, want exit 1 (nothing fetched) and no warning", res)
	}

	cmd := exec.Command(binary, "-d", "3600")
	cmd.Dir, cmd.Env = r.dir, daemonEnv(r)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("starting the daemon: %v\n%s", err, out)
	}
	pidfile := filepath.Join(r.dir, "fetchmail.pid")
	waitFor(t, "the pid file", func() bool { _, err := os.Stat(pidfile); return err == nil })
	pid := readPid(t, pidfile)
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })

	msgs := mtaDelivered(t, 1)
	if res := r.runRaw(t, "--quit"); res.code != 0 {
		t.Errorf("gofetchmail --quit: %v", res)
	}
	waitFor(t, "the daemon to exit", func() bool { return syscall.Kill(pid, 0) != nil })
	serverHolds(t, 3)
	w := msgs[0]
	if w.deliveredTo != "msingh@rig.example" {
		t.Errorf("warning sent to <%s>, want msingh@rig.example", w.deliveredTo)
	}
	for _, want := range []string{
		"Subject: Fetchmail oversized-messages warning\n",
		"The following oversized messages remain on server 127.0.0.1 account msingh:\n",
		"skipped by fetchmail.\n",
	} {
		if !bytes.Contains(w.rest, []byte(want)) {
			t.Errorf("the warning lacks %q:\n%s", want, w.rest)
		}
	}
}

// TestSMTPMultidropThroughPostfix fetches a multidrop mailbox (local
// names msingh and other) and forwards through postfix. The messages are
// addressed to msingh@localhost: with dns (the default) "localhost" is
// recognised as the server 127.0.0.1 by its address, and each message goes
// to msingh, byte for byte; with no dns and no aka the domain is not the
// server's, and the messages go to the postmaster.
func TestSMTPMultidropThroughPostfix(t *testing.T) {
	port := mta(t)
	for _, c := range []struct {
		dns, want string
	}{
		{"dns", "msingh@rig.example"},
		{"no dns", "pm@rig.example"},
	} {
		t.Run(c.dns, func(t *testing.T) {
			mta(t) // empty postfix's maildir
			h := newHome(t, rig["RIG_CLIENT_KEY"], true)
			fill(t, 4)
			rc := fmt.Sprintf(`set postmaster pm
poll 127.0.0.1 with protocol pop3 and port %s %s
  user msingh there is msingh other here password foobar sslproto ''
  smtphost 127.0.0.1/%s smtpaddress rig.example
`, rig["RIG_POP3_PORT"], c.dns, port)
			expectExit(t, h.runArgs(t, "-f", h.rc(t, rc)), 0)
			msgs := mtaDelivered(t, 4)
			for _, m := range msgs {
				if m.deliveredTo != c.want {
					t.Errorf("%s: RCPT TO <%s>, want <%s>", m.name, m.deliveredTo, c.want)
				}
			}
			mtaVerify(t, msgs, 4)
			serverHolds(t, 0)
		})
	}
}

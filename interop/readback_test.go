//go:build interop

package interop

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/interop/internal/rigmail"
)

// These tests read gofetchmail's deliveries back with other programs than
// gofetchmail's own checks: Python's mailbox module and formail for an
// mbox, dovecot itself for a maildir, maildrop as an MDA.

// pyMboxToMaildir is a Python script: it reads the mbox argv[1] with the
// standard mailbox module (mboxrd From-unquoting included) and writes each
// message, as Python sees it, into the maildir argv[2].
const pyMboxToMaildir = `
import mailbox, re, sys
src = mailbox.mbox(sys.argv[1], create=False)
dst = mailbox.Maildir(sys.argv[2], create=True)
n = 0
for key in src.iterkeys():
    data = src.get_bytes(key, from_=False)
    # mailbox.mbox returns the stored text: undo mboxrd's quoting of
    # ">*From " lines (one ">" less), as an mboxrd reader must.
    data = re.sub(rb"(?m)^>(>*From )", rb"\1", data)
    dst.add(data)
    n += 1
print(n)
`

// TestMboxReadByPythonAndFormail fetches the rig's mailbox (with its From
// lines, dot lines and a message without a final newline) into an mbox and
// reads it back with Python's mailbox module and with procmail's formail.
func TestMboxReadByPythonAndFormail(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	const n = 30
	fill(t, n)
	mbox := filepath.Join(h.dir, "mbox")
	rc := fmt.Sprintf("poll 127.0.0.1 with protocol pop3 and port %s\n  user msingh there is manish here password foobar sslproto '' no rewrite\n", rig["RIG_POP3_PORT"])
	r := h.runArgs(t, "-f", h.rc(t, rc), "--mbox", mbox)
	expectExit(t, r, 0)
	serverHolds(t, 0)

	md := filepath.Join(h.dir, "py-maildir")
	out, err := exec.Command("python3", "-c", pyMboxToMaildir, mbox, md).CombinedOutput()
	if err != nil {
		t.Fatalf("python mailbox: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != strconv.Itoa(n) {
		t.Fatalf("python's mailbox module reads %s messages, want %d", got, n)
	}
	// Read back and un-quoted, every message must be its original, byte
	// for byte (the rig's mail has "From " lines in bodies).
	verify(t, md, n)

	formail := "/usr/bin/formail"
	if _, err := os.Stat(formail); err != nil {
		t.Skip("formail (procmail's) is not installed")
	}
	f, err := os.Open(mbox)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(formail, "-s", "sh", "-c", "cat >/dev/null; echo x")
	cmd.Stdin = f
	out, err = cmd.Output()
	if err != nil {
		t.Fatalf("formail -s: %v", err)
	}
	if got := strings.Count(string(out), "x\n"); got != n {
		t.Errorf("formail splits the mbox into %d messages, want %d", got, n)
	}
}

// pyLocker takes the locks procmail and mutt take on an mbox (a dotlock
// file and an fcntl write lock), appends one message, prints "locked",
// and holds both until its standard input closes or says "go".
const pyLocker = `
import fcntl, os, sys
path = sys.argv[1]
fd = os.open(path + ".lock", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
os.close(fd)
f = open(path, "ab")
fcntl.lockf(f, fcntl.LOCK_EX)
f.write(b"From locker@example.org Thu Nov 26 10:00:00 2026\nFrom: locker@example.org\nSubject: written under the lock\n\nhello\n\n")
f.flush()
os.fsync(f.fileno())
print("locked", flush=True)
sys.stdin.readline()
fcntl.lockf(f, fcntl.LOCK_UN)
f.close()
os.unlink(path + ".lock")
`

// startLocker runs pyLocker on mbox and returns once it holds the locks;
// release lets it go.
func startLocker(t *testing.T, mbox string) (release func()) {
	t.Helper()
	cmd := exec.Command("python3", "-c", pyLocker, mbox)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("locker did not take the locks: %q %v", line, err)
	}
	done := false
	release = func() {
		if done {
			return
		}
		done = true
		in.Write([]byte("go\n"))
		in.Close()
		cmd.Wait()
	}
	t.Cleanup(release)
	return release
}

// TestMboxLockedByAnotherProcess: while another program holds the mbox's
// locks, gofetchmail waits; when they are released it appends after the
// other program's message. Stopped while it waits, it keeps the mail on
// the server and leaves the mbox as the other program left it.
func TestMboxLockedByAnotherProcess(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	rc := h.rc(t, fmt.Sprintf("poll 127.0.0.1 with protocol pop3 and port %s\n  user msingh there is manish here password foobar sslproto '' no rewrite\n", rig["RIG_POP3_PORT"]))

	t.Run("stopped while waiting", func(t *testing.T) {
		const n = 5
		fill(t, n)
		mbox := filepath.Join(h.dir, "stopped.mbox")
		release := startLocker(t, mbox)
		cmd := exec.Command(binary, "-f", rc, "--mbox", mbox)
		cmd.Env, cmd.Dir = h.env(), h.dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second) // it is waiting for the locks now
		cmd.Process.Signal(syscall.SIGTERM)
		err := cmd.Wait()
		release()
		if err == nil {
			t.Errorf("gofetchmail stopped while waiting for a lock exited 0:\n%s", stderr.String())
		}
		serverHolds(t, n)
		data, _ := os.ReadFile(mbox)
		if c := bytes.Count(data, []byte("\nFrom ")) + boolInt(bytes.HasPrefix(data, []byte("From "))); c != 1 {
			t.Errorf("the mbox holds %d messages, want only the locker's:\n%s", c, data)
		}
	})

	t.Run("waits, then delivers", func(t *testing.T) {
		const n = 5
		fill(t, n)
		mbox := filepath.Join(h.dir, "waits.mbox")
		release := startLocker(t, mbox)
		go func() {
			time.Sleep(2 * time.Second)
			release()
		}()
		r := h.runArgs(t, "-f", rc, "--mbox", mbox)
		expectExit(t, r, 0)
		serverHolds(t, 0)
		md := filepath.Join(h.dir, "waits-maildir")
		out, err := exec.Command("python3", "-c", pyMboxToMaildir, mbox, md).CombinedOutput()
		if err != nil {
			t.Fatalf("python mailbox: %v\n%s", err, out)
		}
		if got := strings.TrimSpace(string(out)); got != strconv.Itoa(n+1) {
			t.Fatalf("the mbox holds %s messages, want the locker's and %d", got, n)
		}
		// The locker's message is the first; the others are the originals.
		data, _ := os.ReadFile(mbox)
		if !bytes.HasPrefix(data, []byte("From locker@example.org ")) {
			t.Errorf("the locker's message is not first:\n%.200s", data)
		}
		names, _ := filepath.Glob(filepath.Join(md, "new", "*"))
		for _, name := range names {
			b, _ := os.ReadFile(name)
			if bytes.Contains(b, []byte("Subject: written under the lock")) {
				os.Remove(name)
			}
		}
		verify(t, md, n)
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// pyIMAPToMaildir reads every message of an IMAP folder of the rig's
// dovecot with Python's imaplib and stores it in a maildir: an
// independent reader of what gofetchmail put into a maildir.
const pyIMAPToMaildir = `
import imaplib, mailbox, sys
port, user, pw, folder, out = sys.argv[1:6]
m = imaplib.IMAP4("127.0.0.1", int(port))
m.login(user, pw)
typ, data = m.select(folder, readonly=True)
assert typ == "OK", data
dst = mailbox.Maildir(out, create=True)
typ, nums = m.search(None, "ALL")
n = 0
for num in nums[0].split():
    typ, parts = m.fetch(num, "(BODY.PEEK[])")
    raw = parts[0][1].replace(b"\r\n", b"\n")
    dst.add(raw)
    n += 1
m.logout()
print(n)
`

// TestMaildirReadByDovecot delivers into a folder of the rig user's own
// maildir and reads it back through dovecot's IMAP server (with Python's
// imaplib): dovecot must find every message, intact.
func TestMaildirReadByDovecot(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	const n = 20
	fill(t, n)
	folder := "Fetched" + strconv.FormatInt(time.Now().UnixNano(), 36)
	dir := filepath.Join(rig["RIG_MAILDIR"], "."+folder)
	t.Cleanup(func() { os.RemoveAll(dir) })
	rc := fmt.Sprintf("poll 127.0.0.1 with protocol pop3 and port %s\n  user msingh there is manish here password foobar sslproto '' no rewrite\n", rig["RIG_POP3_PORT"])
	r := h.runArgs(t, "-f", h.rc(t, rc), "--maildir", dir)
	expectExit(t, r, 0)
	serverHolds(t, 0)
	// gofetchmail ran as root; dovecot serves the folder as the mail user.
	uid, gid := rigUser(t)
	filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err == nil {
			err = os.Lchown(p, uid, gid)
		}
		return err
	})
	md := filepath.Join(h.dir, "imap-copy")
	out, err := exec.Command("python3", "-c", pyIMAPToMaildir, rig["RIG_IMAP_PORT"], rig["RIG_USER"], rig["RIG_PASSWORD"], folder, md).CombinedOutput()
	if err != nil {
		t.Fatalf("reading the folder through dovecot's IMAP: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != strconv.Itoa(n) {
		t.Fatalf("dovecot serves %s messages from the maildir, want %d", got, n)
	}
	verify(t, md, n)
}

// TestMaildropMDA delivers through a real maildrop, as an mda, with a
// mailfilter that stores into a maildir.
func TestMaildropMDA(t *testing.T) {
	const maildrop = "/usr/bin/maildrop"
	if _, err := os.Stat(maildrop); err != nil {
		t.Skip("maildrop is not installed (apt-get install maildrop)")
	}
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	const n = 15
	fill(t, n)
	md := filepath.Join(h.dir, "md-maildir")
	for _, sub := range []string{"new", "cur", "tmp"} {
		if err := os.MkdirAll(filepath.Join(md, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	filter := filepath.Join(h.dir, "mailfilter")
	writeFile(t, filter, fmt.Sprintf("to \"%s/\"\n", md), 0o600)
	rc := fmt.Sprintf("poll 127.0.0.1 with protocol pop3 and port %s\n  user msingh there is manish here password foobar sslproto '' no rewrite\n  mda \"%s -f %%F %s\"\n", rig["RIG_POP3_PORT"], maildrop, filter)
	r := h.runArgs(t, "-f", h.rc(t, rc))
	expectExit(t, r, 0)
	serverHolds(t, 0)
	verify(t, md, n)
}

// TestHostileSenderThroughMDA puts a message whose sender addresses are
// shell code on the server and delivers it through an MDA that runs its own
// shell around %F (the case quoting cannot protect): nothing of it runs,
// and the MDA sees each sender with every character outside letters,
// digits and @ . _ + = - replaced by "_" (docs/delivery.md).
func TestHostileSenderThroughMDA(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	marker := filepath.Join(h.dir, "pwned")
	// No blanks (${IFS} stands in for them): a Return-Path with blanks is
	// not taken as the sender at all.
	hostile := []string{
		"$(touch${IFS}" + marker + "1)@evil.example",
		"`touch${IFS}" + marker + "2`@evil.example",
		"';touch${IFS}" + marker + "3;'@evil.example",
		"\";touch${IFS}" + marker + "4;\"@evil.example",
		"x@evil.example;touch${IFS}" + marker + "5",
	}
	var msgs []rigmail.Message
	for i, addr := range hostile {
		msgs = append(msgs, rigmail.Message{
			Name: fmt.Sprintf("%04d.eml", i+1),
			Kind: "hostile-sender",
			Data: []byte(fmt.Sprintf("Return-Path: <%s>\nFrom: <%s>\nTo: manish@localhost\nSubject: hostile %d\nMessage-ID: <hostile-%d-%d@evil.example>\n\nbody %d\n", addr, addr, i, i, time.Now().UnixNano(), i)),
		})
	}
	fillMessages(t, msgs)
	logf := filepath.Join(h.dir, "senders.log")
	rc := fmt.Sprintf("poll 127.0.0.1 with protocol pop3 and port %s\n  user msingh there is manish here password foobar sslproto '' no rewrite\n  mda \"/bin/sh -c 'echo %%F >>%s; cat >/dev/null'\"\n", rig["RIG_POP3_PORT"], logf)
	r := h.runArgs(t, "-f", h.rc(t, rc))
	expectExit(t, r, 0)
	serverHolds(t, 0)
	for i := range hostile {
		if _, err := os.Stat(fmt.Sprintf("%s%d", marker, i+1)); err == nil {
			t.Errorf("hostile sender %d ran a command", i+1)
		}
	}
	// One line per message, each only of the safe characters. A sender
	// that is not an address at all (the last) reaches the MDA empty; the
	// others are there, quoted local parts and all, made inert.
	got, _ := os.ReadFile(logf)
	lines := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
	if len(lines) != len(hostile) {
		t.Fatalf("the MDA ran %d times, want %d; it saw:\n%s", len(lines), len(hostile), got)
	}
	safe := regexp.MustCompile(`^[A-Za-z0-9@._+=-]*$`)
	seen := strings.Join(lines, "\n")
	for i, l := range lines {
		if !safe.MatchString(l) {
			t.Errorf("the MDA saw %q: characters outside letters, digits and @ . _ + = -", l)
		}
		if i < 4 && !strings.Contains(seen, fmt.Sprintf("pwned%d_", i+1)) {
			t.Errorf("hostile sender %d did not reach the MDA made inert; it saw:\n%s", i+1, got)
		}
	}
}

package deliver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var fixedNow = time.Date(2026, 3, 7, 9, 5, 3, 0, time.UTC)

func newTestMbox(t *testing.T, path string, opts *MboxOptions) *Mbox {
	t.Helper()
	if opts == nil {
		opts = &MboxOptions{}
	}
	opts.Now = func() time.Time { return fixedNow }
	m, err := NewMbox(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFromLine(t *testing.T) {
	for sender, want := range map[string]string{
		"a@example.org":   "From a@example.org Sat Mar  7 09:05:03 2026\n",
		"":                "From MAILER-DAEMON Sat Mar  7 09:05:03 2026\n",
		"<>":              "From MAILER-DAEMON Sat Mar  7 09:05:03 2026\n",
		"<b@example.org>": "From b@example.org Sat Mar  7 09:05:03 2026\n",
		"a b\n@x":         "From a_b_@x Sat Mar  7 09:05:03 2026\n",
	} {
		if got := fromLine(sender, fixedNow); got != want {
			t.Errorf("fromLine(%q) = %q, want %q", sender, got, want)
		}
	}
}

func TestMboxTwoMessages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mbox")
	m := newTestMbox(t, path, nil)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mbox created with mode %v, want 0600", fi.Mode().Perm())
	}
	if err := deliverOne(t, m, []byte("Subject: one\n\nFrom me\n>From you\n")).Commit(); err != nil {
		t.Fatal(err)
	}
	tx, err := m.Begin(context.Background(), Envelope{})
	if err != nil {
		t.Fatal(err)
	}
	// "From " split across two writes, and no final newline.
	for _, s := range []string{"Subject: two\n\nbody\nFr", "om split\nend"} {
		if _, err := tx.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := "From a@example.org Sat Mar  7 09:05:03 2026\nSubject: one\n\n>From me\n>>From you\n\n" +
		"From MAILER-DAEMON Sat Mar  7 09:05:03 2026\nSubject: two\n\nbody\n>From split\nend\n\n"
	if string(got) != want {
		t.Errorf("mbox holds\n%q\nwant\n%q", got, want)
	}
	// The batch keeps the locks until Sync.
	if _, err := os.Stat(path + ".lock"); err != nil {
		t.Errorf("dotlock released before Sync: %v", err)
	}
	if err := m.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dotlock left behind: %v", err)
	}
}

func TestMboxAbortTruncatesBack(t *testing.T) {
	for _, before := range []string{"", "From x Sat Mar  7 09:05:03 2026\nold\n\n", "garbage without newline"} {
		path := filepath.Join(t.TempDir(), "mbox")
		if err := os.WriteFile(path, []byte(before), 0o600); err != nil {
			t.Fatal(err)
		}
		m := newTestMbox(t, path, nil)
		tx := deliverOne(t, m, bytes.Repeat([]byte("From line\n"), 20000)) // past the buffer
		if err := tx.Abort(); err != nil {
			t.Fatal(err)
		}
		if err := tx.Abort(); err != nil {
			t.Errorf("second Abort: %v", err)
		}
		if got, _ := os.ReadFile(path); string(got) != before {
			t.Errorf("after Abort the mbox holds %d bytes %.40q, want %q", len(got), got, before)
		}
		// The mbox is usable again: the lock was released.
		if err := deliverOne(t, m, []byte("x\n")).Commit(); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(path)
		if !strings.HasPrefix(string(got), before) || !strings.HasSuffix(string(got), "\nx\n\n") {
			t.Errorf("after a new delivery the mbox holds %q", got)
		}
		if before != "" && !strings.Contains(string(got), "\n\nFrom a@example.org") {
			t.Errorf("new From line does not follow a blank line: %q", got)
		}
	}
}

func TestMboxFcntlLockTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mbox")
	before := []byte("From x Sat Mar  7 09:05:03 2026\nold\n\n")
	os.WriteFile(path, before, 0o600)
	m := newTestMbox(t, path, &MboxOptions{LockTimeout: 150 * time.Millisecond})
	startLockHolder(t, path)
	_, err := m.Begin(context.Background(), Envelope{})
	if err == nil {
		t.Fatal("Begin succeeded while another process holds the fcntl lock")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the path", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, before) {
		t.Errorf("mbox changed by a failed Begin: %q", got)
	}
	if _, err := os.Stat(path + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dotlock left behind after a failed Begin: %v", err)
	}
}

func TestMboxFcntlLockWaits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mbox")
	m := newTestMbox(t, path, &MboxOptions{LockTimeout: time.Minute})
	h := startLockHolder(t, path)
	var released atomic.Bool
	done := make(chan error, 1)
	go func() {
		tx, err := m.Begin(context.Background(), Envelope{})
		if err == nil {
			if !released.Load() {
				err = errors.New("Begin returned while the lock was held")
			} else {
				err = tx.Commit()
			}
		}
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // let Begin find the lock busy
	released.Store(true)
	h.release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestMboxDotlock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mbox")
	m := newTestMbox(t, path, &MboxOptions{LockTimeout: 100 * time.Millisecond})
	lock := path + ".lock"
	if err := os.WriteFile(lock, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Begin(context.Background(), Envelope{}); err == nil {
		t.Fatal("Begin succeeded while a fresh dotlock exists")
	}
	if _, err := os.Stat(lock); err != nil {
		t.Fatalf("a fresh foreign dotlock was removed: %v", err)
	}
	old := time.Now().Add(-6 * time.Minute)
	os.Chtimes(lock, old, old)
	if err := deliverOne(t, m, []byte("x\n")).Commit(); err != nil {
		t.Fatalf("stale dotlock not broken: %v", err)
	}
	if err := m.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(lock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dotlock left behind: %v", err)
	}
}

func TestMboxContextCancel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mbox")
	m := newTestMbox(t, path, nil)
	tx, err := m.Begin(context.Background(), Envelope{})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Abort()
	// The first transaction is open: a second Begin waits, until ctx ends.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := m.Begin(ctx, Envelope{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second Begin: %v, want deadline exceeded", err)
	}
}

// TestMboxPythonReads proves that an independent mbox reader agrees.
func TestMboxPythonReads(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	path := filepath.Join(t.TempDir(), "mbox")
	m := newTestMbox(t, path, nil)
	msgs := []string{
		"Subject: one\n\nFrom the top\n>From quoted\nlast",
		"Subject: two\n\n\nFrom \n>>From x\n",
	}
	senders := []string{"a@example.org", ""}
	for i, msg := range msgs {
		tx, err := m.Begin(context.Background(), Envelope{From: senders[i]})
		if err != nil {
			t.Fatal(err)
		}
		tx.Write([]byte(msg))
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	// Python's mbox splits on From lines; mboxrd unquoting is one regex.
	script := `
import mailbox, re, sys
for m in mailbox.mbox(sys.argv[1]):
    body = re.sub(rb'(?m)^>(>*From )', rb'\1', m.as_bytes(unixfrom=False))
    sys.stdout.buffer.write(m.get_from().encode() + b'\0' + body + b'\0')
`
	out, err := exec.Command(py, "-c", script, path).Output()
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(string(out), "\x00")
	if len(parts) != 2*len(msgs)+1 {
		t.Fatalf("python read %d parts: %q", len(parts), out)
	}
	for i, msg := range msgs {
		from, body := parts[2*i], parts[2*i+1]
		wantFrom := strings.TrimSuffix(strings.TrimPrefix(fromLine(senders[i], fixedNow), "From "), "\n")
		if from != wantFrom {
			t.Errorf("message %d: python sees sender %q, want %q", i, from, wantFrom)
		}
		want := msg
		if !strings.HasSuffix(want, "\n") {
			want += "\n" // mbox can only store whole lines
		}
		if body != want {
			t.Errorf("message %d: python reads %q, want %q", i, body, want)
		}
	}
}

// A dotlock left by a killed process (its pid names no process) is broken
// at once; one naming a live process waits like any fresh lock.
func TestMboxDotlockOfDeadHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mbox")
	m := newTestMbox(t, path, &MboxOptions{LockTimeout: 200 * time.Millisecond})
	lock := path + ".lock"

	live := exec.Command("sleep", "30")
	if err := live.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { live.Process.Kill(); live.Wait() }()
	os.WriteFile(lock, []byte(fmt.Sprintf("%d\n", live.Process.Pid)), 0o600)
	if _, err := m.Begin(context.Background(), Envelope{}); err == nil {
		t.Fatal("Begin broke the dotlock of a live process")
	}

	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(lock, []byte(fmt.Sprintf("%d\n", dead.Process.Pid)), 0o600)
	if err := deliverOne(t, m, []byte("x\n")).Commit(); err != nil {
		t.Fatalf("the dotlock of an exited process was not broken: %v", err)
	}
	if err := m.Sync(); err != nil {
		t.Fatal(err)
	}
}

// A FIFO planted at the dotlock's name (a spool's other users can write
// there) is a lock held by no one we can tell: Begin waits its lock
// timeout and fails, and does not hang in open(2) waiting for a writer.
func TestMboxDotlockPlantedFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mbox")
	m := newTestMbox(t, path, &MboxOptions{LockTimeout: 100 * time.Millisecond})
	if err := syscall.Mkfifo(path+".lock", 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := m.Begin(context.Background(), Envelope{})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Begin succeeded while something else sits at the dotlock's name")
		}
	case <-time.After(30 * time.Second):
		// Unblock the open so that the test binary can end.
		if f, err := os.OpenFile(path+".lock", os.O_WRONLY, 0); err == nil {
			f.Close()
		}
		t.Fatal("Begin hung opening a FIFO planted as the dotlock")
	}
}

// An mbox in a spool other users can write to: a symbolic link that
// replaces it after it was opened is not delivered through (another user
// could point it at one of the user's files), and a link another user made
// is refused from the start. A link the user made is followed, as before.
func TestMboxPlantedLink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "bashrc")
	os.WriteFile(victim, []byte("precious\n"), 0o600)

	path := filepath.Join(dir, "mbox")
	m := newTestMbox(t, path, &MboxOptions{LockTimeout: 100 * time.Millisecond})
	os.Remove(path)
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	if tx, err := m.Begin(context.Background(), Envelope{}); err == nil {
		tx.Abort()
		t.Error("Begin delivered through a link that replaced the mbox")
	} else if !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("error does not say why: %v", err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "precious\n" {
		t.Fatalf("the link's target was written: %q", got)
	}

	own := filepath.Join(dir, "own-link")
	target := filepath.Join(dir, "real-mbox")
	os.WriteFile(target, nil, 0o600)
	os.Symlink(target, own)
	m = newTestMbox(t, own, nil)
	if err := deliverOne(t, m, []byte("x\n")).Commit(); err != nil {
		t.Fatalf("the user's own link: %v", err)
	}
	m.Sync()
	if fi, err := os.Stat(target); err != nil || fi.Size() == 0 {
		t.Errorf("nothing delivered through the user's own link: %v", err)
	}

	if os.Geteuid() != 0 {
		t.Skip("needs root to make a link belong to another user (nobody)")
	}
	theirs := filepath.Join(dir, "their-link")
	os.Symlink(victim, theirs)
	if err := os.Lchown(theirs, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := NewMbox(theirs, nil); err == nil || !strings.Contains(err.Error(), "made by uid 65534") {
		t.Errorf("another user's link: %v", err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "precious\n" {
		t.Fatalf("the link's target was written: %q", got)
	}
}

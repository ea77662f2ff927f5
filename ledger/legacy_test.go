package ledger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// deadPid is the pid of a process that has ended.
func deadPid(t *testing.T) int {
	t.Helper()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	return dead.Process.Pid
}

// The maildir journal of gofetchmail before one journal format, in the
// bytes its writer made (json.Marshal of the whole batch, a newline,
// written through a rename), is finished as then: what is staged in tmp/
// is published, and the UIDs of the messages in the maildir recorded.
func TestLegacyMaildirJournalRecovered(t *testing.T) {
	dir := t.TempDir()
	uids := load(t, filepath.Join(dir, "fetchids"))
	md := filepath.Join(dir, "Maildir")
	for _, sub := range []string{"tmp", "new", "cur"} {
		os.MkdirAll(filepath.Join(md, sub), 0o700)
	}
	os.WriteFile(filepath.Join(md, "tmp", "k1"), []byte("Subject: staged\n\n"), 0o600)
	os.WriteFile(filepath.Join(md, "new", "k2"), []byte("Subject: published\n\n"), 0o600)
	// k3 was never staged: its message is fetched again.
	old := fmt.Sprintf(`{"account":"msingh@pop.example.org","maildir":%q,"entries":[{"uid":"u1","key":"k1"},{"uid":"u2","key":"k2"},{"uid":"u3","key":"k3"}]}`+"\n", md)
	path := uids.Path() + ".journal"
	os.WriteFile(path, []byte(old), 0o600)
	var log bytes.Buffer
	if err := New().Recover(uids, slog.New(slog.NewTextHandler(&log, nil))); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(md, "new", "k1")); err != nil {
		t.Errorf("the staged message was not published: %v", err)
	}
	back := load(t, uids.Path())
	if !back.Has("msingh@pop.example.org", "u1") || !back.Has("msingh@pop.example.org", "u2") || back.Has("msingh@pop.example.org", "u3") {
		t.Errorf("recorded %v, want u1 and u2", back.Seen("msingh@pop.example.org"))
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the old journal is still there: %v", err)
	}
	if !strings.Contains(log.String(), "2 of 3 messages") {
		t.Errorf("log: %s", log.String())
	}
}

// The mbox journal of gofetchmail before one journal format (named
// "<idfile>.mbox-journal-<hash>-<random>", JSON lines from a json.Encoder:
// {"pid","account","mbox","start"}, then {"end","uid"} a message) of a
// dead run whose batch is not recorded: the batch is cut back off the mbox.
func TestLegacyMboxJournalRecovered(t *testing.T) {
	dir := t.TempDir()
	uids := load(t, filepath.Join(dir, "fetchids"))
	mbox := filepath.Join(dir, "mbox")
	before := killedBatch(t, uids, mbox) // leaves a journal of this format: made old below
	now, _ := filepath.Glob(uids.Path() + ".journal-mbox-*")
	if len(now) != 1 {
		t.Fatalf("journals %v", now)
	}
	data, _ := os.ReadFile(now[0])
	dec := json.NewDecoder(bytes.NewReader(data))
	var head Head
	dec.Decode(&head)
	var b strings.Builder
	fmt.Fprintf(&b, `{"pid":%d,"account":%q,"mbox":%q,"start":%d}`+"\n", deadPid(t), head.Account, head.Target, head.Start)
	for {
		var e Entry
		if dec.Decode(&e) != nil {
			break
		}
		fmt.Fprintf(&b, `{"end":%d,"uid":%q}`+"\n", e.End, e.UID)
	}
	os.Remove(now[0])
	path := uids.Path() + ".mbox-journal-9f3c0e1a2b4d5e6f-123456789"
	os.WriteFile(path, []byte(b.String()), 0o600)

	var log bytes.Buffer
	if err := New().Recover(uids, slog.New(slog.NewTextHandler(&log, nil))); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(mbox); !bytes.Equal(after, before) {
		t.Errorf("the mbox after recovery:\n%q\nwant its content before the batch:\n%q\nlog: %s", after, before, log.String())
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the old journal is still there: %v", err)
	}
}

// The delivered journal of gofetchmail before one journal format
// ("<idfile>.delivered-<pid>-<n>-<random>": {"pid","account"}, then
// {"uid"} a message, the last cut short by the kill): its whole lines'
// UIDs are recorded.
func TestLegacyDeliveredJournalRecovered(t *testing.T) {
	dir := t.TempDir()
	uids := load(t, filepath.Join(dir, "fetchids"))
	pid := deadPid(t)
	path := fmt.Sprintf("%s.delivered-%d-1-123456789", uids.Path(), pid)
	old := fmt.Sprintf(`{"pid":%d,"account":"msingh@pop.example.org"}`+"\n"+`{"uid":"u1"}`+"\n"+`{"uid":"u2"}`+"\n"+`{"uid":"u3`, pid)
	os.WriteFile(path, []byte(old), 0o600)
	if err := New().Recover(uids, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	back := load(t, uids.Path())
	if !back.Has("msingh@pop.example.org", "u1") || !back.Has("msingh@pop.example.org", "u2") || back.Has("msingh@pop.example.org", "u3") {
		t.Errorf("recorded %v, want u1 and u2", back.Seen("msingh@pop.example.org"))
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the old journal is still there: %v", err)
	}
}

// Old journals are trusted as new ones are: one another user could have
// written (a link, another user's file, a group-writable one) is ignored
// with a warning and left in place; nothing it names is recorded,
// published or cut.
func TestLegacyJournalsPlantedRefused(t *testing.T) {
	dir := t.TempDir()
	uids := load(t, filepath.Join(dir, "fetchids"))
	md := filepath.Join(dir, "Maildir")
	for _, sub := range []string{"tmp", "new", "cur"} {
		os.MkdirAll(filepath.Join(md, sub), 0o700)
	}
	os.WriteFile(filepath.Join(md, "tmp", "k1"), []byte("Subject: staged\n\n"), 0o600)
	pid := deadPid(t)
	maildirJ := uids.Path() + ".journal"
	real := filepath.Join(dir, "elsewhere")
	os.WriteFile(real, []byte(fmt.Sprintf(`{"account":"a@h","maildir":%q,"entries":[{"uid":"u1","key":"k1"}]}`+"\n", md)), 0o600)
	if err := os.Symlink(real, maildirJ); err != nil { // a link: refused whoever made it
		t.Fatal(err)
	}
	deliveredJ := fmt.Sprintf("%s.delivered-%d-1-1", uids.Path(), pid)
	os.WriteFile(deliveredJ, []byte(fmt.Sprintf(`{"pid":%d,"account":"a@h"}`+"\n"+`{"uid":"u2"}`+"\n", pid)), 0o600)
	os.Chmod(deliveredJ, 0o620) // writable by the group
	planted := []string{maildirJ, deliveredJ}
	if os.Geteuid() == 0 { // only root can make a file another user's
		mboxJ := uids.Path() + ".mbox-journal-1-1"
		os.WriteFile(filepath.Join(dir, "mbox"), []byte("From a Fri Nov 27 10:00:00 2026\n\nx\n"), 0o600)
		os.WriteFile(mboxJ, []byte(fmt.Sprintf(`{"pid":%d,"account":"a@h","mbox":%q,"start":0}`+"\n", pid, filepath.Join(dir, "mbox"))), 0o600)
		os.Lchown(mboxJ, 65534, 65534)
		planted = append(planted, mboxJ)
	}
	var log bytes.Buffer
	if err := New().Recover(uids, slog.New(slog.NewTextHandler(&log, nil))); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(log.String(), "ignoring journal"); n != len(planted) {
		t.Errorf("%d warnings about planted journals, want %d:\n%s", n, len(planted), log.String())
	}
	if uids.Len("a@h") != 0 {
		t.Errorf("a planted journal's UIDs were recorded: %v", uids.Seen("a@h"))
	}
	if _, err := os.Stat(filepath.Join(md, "tmp", "k1")); err != nil {
		t.Errorf("a planted journal's maildir was published: %v", err)
	}
	for _, p := range planted {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
	if os.Geteuid() == 0 {
		if b, _ := os.ReadFile(filepath.Join(dir, "mbox")); len(b) == 0 {
			t.Error("a planted mbox journal cut the mbox")
		}
	}
}

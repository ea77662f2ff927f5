package fetch

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The UIDs a killed run had delivered to a target that is not a Batcher
// (SMTP, an MDA) are recorded by the next run from its journal, a line the
// kill cut short included, so they are not delivered again.
func TestDeliveredJournalRecordsDeadRunsDeliveries(t *testing.T) {
	dir := t.TempDir()
	uids, err := LoadUIDStore(filepath.Join(dir, "fetchids"))
	if err != nil {
		t.Fatal(err)
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("%s.delivered-%d-1", uids.Path(), dead.Process.Pid)
	journal := fmt.Sprintf(`{"pid":%d,"account":"msingh@pop.example.org"}`+"\n"+`{"uid":"u1"}`+"\n"+`{"uid":"u2"}`+"\n"+`{"uid":"u3`, dead.Process.Pid)
	os.WriteFile(path, []byte(journal), 0o600)
	var log bytes.Buffer
	if err := recoverJournal(uids, slog.New(slog.NewTextHandler(&log, nil))); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"u1", "u2"} {
		if !uids.Has("msingh@pop.example.org", u) {
			t.Errorf("%s not recorded", u)
		}
	}
	if uids.Has("msingh@pop.example.org", "u3") {
		t.Error("the torn entry was recorded")
	}
	reloaded, _ := LoadUIDStore(uids.Path())
	if !reloaded.Has("msingh@pop.example.org", "u2") {
		t.Error("the recovered UIDs were not saved to the idfile")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the journal is still there: %v", err)
	}
	if !strings.Contains(log.String(), "recorded 2 messages") {
		t.Errorf("log: %s", log.String())
	}
}

// During a poll into an MDA, each delivered UID is journaled until its
// batch is recorded; a finished poll leaves no journal.
func TestDeliveredJournalDuringPoll(t *testing.T) {
	e := newTestEnv(t, testMessages(3), nil)
	dir := filepath.Dir(e.uids.Path())
	seen := filepath.Join(t.TempDir(), "seen")
	mda := fmt.Sprintf("sh -c 'cat %s.delivered-* 2>/dev/null | grep -c uid >> %s; cat >/dev/null'", e.uids.Path(), seen)
	e.job.User.Maildir = nil
	e.job.User.MDA = &mda
	res := e.poll(t)
	if res.Err != nil || res.Delivered != 3 {
		t.Fatalf("poll: %+v\n%s", res, e.log)
	}
	data, _ := os.ReadFile(seen)
	if got := strings.Fields(string(data)); strings.Join(got, " ") != "0 1 2" {
		t.Errorf("journaled UIDs seen by the MDA of each message: %q, want 0 1 2", got)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.delivered-*")); len(left) != 0 {
		t.Errorf("journals left: %v", left)
	}
}

// A journal without a readable head is being written by someone this
// instant, or was never used: it is left while young, removed when old.
func TestBatchJournalWithoutHead(t *testing.T) {
	dir := t.TempDir()
	uids, err := LoadUIDStore(filepath.Join(dir, "fetchids"))
	if err != nil {
		t.Fatal(err)
	}
	path := uids.Path() + ".delivered-1-1"
	os.WriteFile(path, nil, 0o600)
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := recoverJournal(uids, discard); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("a journal just created was removed: %v", err)
	}
	old := time.Now().Add(-2 * time.Minute)
	os.Chtimes(path, old, old)
	if err := recoverJournal(uids, discard); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("an old journal without a head is still there: %v", err)
	}
}

package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/deliver"
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
	path := fmt.Sprintf("%s.journal-delivered-%d-1", uids.Path(), dead.Process.Pid)
	journal := fmt.Sprintf(`{"kind":"delivered","pid":%d,"account":"msingh@pop.example.org"}`+"\n"+`{"uid":"u1"}`+"\n"+`{"uid":"u2"}`+"\n"+`{"uid":"u3`, dead.Process.Pid)
	os.WriteFile(path, []byte(journal), 0o600)
	var log bytes.Buffer
	if err := New().Recover(uids, slog.New(slog.NewTextHandler(&log, nil))); err != nil {
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

// A journal without a readable head is being written by someone this
// instant, or was never used: it is left while young, removed when old.
func TestBatchJournalWithoutHead(t *testing.T) {
	dir := t.TempDir()
	uids, err := LoadUIDStore(filepath.Join(dir, "fetchids"))
	if err != nil {
		t.Fatal(err)
	}
	path := uids.Path() + ".journal-delivered-1-1"
	os.WriteFile(path, nil, 0o600)
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := New().Recover(uids, discard); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("a journal just created was removed: %v", err)
	}
	old := time.Now().Add(-2 * time.Minute)
	os.Chtimes(path, old, old)
	if err := New().Recover(uids, discard); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("an old journal without a head is still there: %v", err)
	}
}

// killedBatch leaves what a run killed in the middle of an mbox batch
// leaves: an mbox with one older message, the batch's two whole messages
// (UIDs u1, u2) and part of a third, and the batch's journal naming a pid
// that no longer runs. It returns the mbox's content before the batch.
func killedBatch(t *testing.T, uids *UIDStore, mbox string) []byte {
	t.Helper()
	m, err := deliver.NewMbox(mbox, nil)
	if err != nil {
		t.Fatal(err)
	}
	put := func(body string) deliver.Tx {
		tx, err := m.Begin(context.Background(), deliver.Envelope{From: "a@example.org"})
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(tx, body)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		return tx
	}
	put("Subject: old\n\nkept\n")
	if err := m.Sync(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(mbox)

	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	c := New().Open(m, uids, "msingh@pop.example.org", slog.New(slog.NewTextHandler(io.Discard, nil))).(*mboxCommitter)
	c.Delivered(put("Subject: one\n\nx\n"), "u1")
	c.Delivered(put("Subject: two\n\ny\n"), "u2")
	if err := m.Sync(); err != nil {
		t.Fatal(err)
	}
	// The journal as the dead process would have left it: its pid.
	data, _ := os.ReadFile(c.j.path)
	var head Head
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.Decode(&head)
	head.Pid = dead.Process.Pid
	fixed, _ := json.Marshal(head)
	rest := data[bytes.IndexByte(data, '\n')+1:]
	path := c.j.path
	c.Close()
	os.WriteFile(path, append(append(fixed, '\n'), rest...), 0o600)

	f, _ := os.OpenFile(mbox, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("From a@example.org Fri Nov 27 10:00:00 2026\nSubject: three\n\nhalf a mes")
	f.Close()
	return before
}

func TestMboxJournalUndoesUnrecordedBatch(t *testing.T) {
	dir := t.TempDir()
	uids, err := LoadUIDStore(filepath.Join(dir, "fetchids"))
	if err != nil {
		t.Fatal(err)
	}
	mbox := filepath.Join(dir, "mbox")
	before := killedBatch(t, uids, mbox)
	var log bytes.Buffer
	if err := New().Recover(uids, slog.New(slog.NewTextHandler(&log, nil))); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(mbox); !bytes.Equal(after, before) {
		t.Errorf("the mbox after recovery:\n%q\nwant its content before the batch:\n%q\nlog: %s", after, before, log.String())
	}
	if left, _ := filepath.Glob(uids.Path() + ".journal-mbox-*"); len(left) != 0 {
		t.Errorf("journals left: %v", left)
	}
}

// A batch whose UIDs reached the idfile before the kill stands: its
// messages are about to be deleted on the server.
func TestMboxJournalKeepsRecordedBatch(t *testing.T) {
	dir := t.TempDir()
	uids, err := LoadUIDStore(filepath.Join(dir, "fetchids"))
	if err != nil {
		t.Fatal(err)
	}
	mbox := filepath.Join(dir, "mbox")
	killedBatch(t, uids, mbox)
	uids.Add("msingh@pop.example.org", "u1", "u2")
	had, _ := os.ReadFile(mbox)
	if err := New().Recover(uids, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	if now, _ := os.ReadFile(mbox); !bytes.Equal(now, had) {
		t.Error("a recorded batch was cut off the mbox")
	}
	if left, _ := filepath.Glob(uids.Path() + ".journal-mbox-*"); len(left) != 0 {
		t.Errorf("journals left: %v", left)
	}
}

// The journal of a batch in progress in this process is left alone.
func TestMboxJournalLeavesLiveBatch(t *testing.T) {
	dir := t.TempDir()
	uids, err := LoadUIDStore(filepath.Join(dir, "fetchids"))
	if err != nil {
		t.Fatal(err)
	}
	mbox := filepath.Join(dir, "mbox")
	m, err := deliver.NewMbox(mbox, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := New()
	c := l.Open(m, uids, "k", slog.New(slog.NewTextHandler(io.Discard, nil))).(*mboxCommitter)
	tx, err := m.Begin(context.Background(), deliver.Envelope{})
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(tx, "Subject: in progress\n\n")
	tx.Commit()
	c.Delivered(tx, "u9")
	// Were it taken for a dead run's, recovery would wait for the batch's
	// dotlock and fail.
	if err := l.Recover(uids, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.j.path); err != nil {
		t.Errorf("the live batch's journal is gone: %v", err)
	}
	m.Sync()
	c.drop()
}

package fetch

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gofetchmail/gofetchmail/deliver"
)

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
	s := &session{uids: uids, key: "msingh@pop.example.org", opts: &Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	s.watchMbox(m)
	s.noteMboxMessage(put("Subject: one\n\nx\n"), "u1")
	s.noteMboxMessage(put("Subject: two\n\ny\n"), "u2")
	if err := m.Sync(); err != nil {
		t.Fatal(err)
	}
	// The journal as the dead process would have left it: its pid.
	data, _ := os.ReadFile(s.mboxJ.path)
	var head mboxJournalHead
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.Decode(&head)
	head.Pid = dead.Process.Pid
	fixed, _ := json.Marshal(head)
	rest := data[bytes.IndexByte(data, '\n')+1:]
	path := s.mboxJ.path
	s.closeMboxJournal()
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
	if err := recoverJournal(uids, slog.New(slog.NewTextHandler(&log, nil))); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(mbox); !bytes.Equal(after, before) {
		t.Errorf("the mbox after recovery:\n%q\nwant its content before the batch:\n%q\nlog: %s", after, before, log.String())
	}
	if left, _ := filepath.Glob(uids.Path() + ".mbox-journal-*"); len(left) != 0 {
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
	if err := recoverJournal(uids, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	if now, _ := os.ReadFile(mbox); !bytes.Equal(now, had) {
		t.Error("a recorded batch was cut off the mbox")
	}
	if left, _ := filepath.Glob(uids.Path() + ".mbox-journal-*"); len(left) != 0 {
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
	s := &session{uids: uids, key: "k", opts: &Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	s.watchMbox(m)
	tx, err := m.Begin(context.Background(), deliver.Envelope{})
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(tx, "Subject: in progress\n\n")
	tx.Commit()
	s.noteMboxMessage(tx, "u9")
	// Were it taken for a dead run's, recovery would wait for the batch's
	// dotlock and fail.
	if err := recoverJournal(uids, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.mboxJ.path); err != nil {
		t.Errorf("the live batch's journal is gone: %v", err)
	}
	m.Sync()
	s.dropMboxJournal()
}

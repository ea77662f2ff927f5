package deliver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// commitMsg delivers body as one message of m's current batch.
func commitMsg(t *testing.T, m *Mbox, body string) {
	t.Helper()
	if err := deliverOne(t, m, []byte(body)).Commit(); err != nil {
		t.Fatal(err)
	}
}

func readMbox(t *testing.T, path string) string {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(got)
}

const fromA = "From a@example.org Sat Mar  7 09:05:03 2026\n"

func TestMboxBatchKeepsLocksUntilSync(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mbox")
	m := newTestMbox(t, path, nil)
	other := newTestMbox(t, path, &MboxOptions{LockTimeout: 50 * time.Millisecond})
	commitMsg(t, m, "Subject: 1\n\none\n")
	commitMsg(t, m, "Subject: 2\n\ntwo\n")
	// Another deliverer (a second process would see the same dotlock)
	// cannot start while the batch holds the locks.
	if _, err := other.Begin(context.Background(), Envelope{}); err == nil {
		t.Fatal("a second Mbox began while the batch holds the dotlock")
	}
	if err := m.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dotlock left behind after Sync: %v", err)
	}
	want := fromA + "Subject: 1\n\none\n\n" + fromA + "Subject: 2\n\ntwo\n\n"
	if got := readMbox(t, path); got != want {
		t.Errorf("mbox holds %q, want %q", got, want)
	}
	// After Sync the other deliverer gets its turn.
	commitMsg(t, other, "Subject: 3\n\nthree\n")
	if err := other.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := readMbox(t, path); !strings.HasSuffix(got, "\n\n"+fromA+"Subject: 3\n\nthree\n\n") {
		t.Errorf("third message not appended after the batch: %q", got)
	}
}

func TestMboxBatchAbortOneMessage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mbox")
	before := "From x Sat Mar  7 09:05:03 2026\nold\n\n"
	if err := os.WriteFile(path, []byte(before), 0o600); err != nil {
		t.Fatal(err)
	}
	m := newTestMbox(t, path, nil)
	commitMsg(t, m, "Subject: 1\n\none\n")
	tx := deliverOne(t, m, []byte(strings.Repeat("From big\n", 20000))) // past the buffer
	if err := tx.Abort(); err != nil {
		t.Fatal(err)
	}
	commitMsg(t, m, "Subject: 3\n\nthree\n")
	if err := m.Sync(); err != nil {
		t.Fatal(err)
	}
	want := before + fromA + "Subject: 1\n\none\n\n" + fromA + "Subject: 3\n\nthree\n\n"
	if got := readMbox(t, path); got != want {
		t.Errorf("mbox holds %d bytes %.200q, want %q", len(got), got, want)
	}
}

func TestMboxBatchFailedSyncTruncatesBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mbox")
	before := "From x Sat Mar  7 09:05:03 2026\nold\n\n"
	if err := os.WriteFile(path, []byte(before), 0o600); err != nil {
		t.Fatal(err)
	}
	m := newTestMbox(t, path, nil)
	commitMsg(t, m, "Subject: 1\n\none\n")
	if err := m.Sync(); err != nil {
		t.Fatal(err)
	}
	synced := readMbox(t, path)
	commitMsg(t, m, "Subject: 2\n\ntwo\n")
	commitMsg(t, m, "Subject: 3\n\nthree\n")
	eio := errors.New("injected EIO")
	m.fsync = func(*os.File) error { return eio }
	err := m.Sync()
	if !errors.Is(err, eio) {
		t.Fatalf("Sync = %v, want the fsync error", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the mbox", err)
	}
	// Only this batch is gone; the one synced before stays.
	if got := readMbox(t, path); got != synced {
		t.Errorf("after a failed Sync the mbox holds %q, want %q", got, synced)
	}
	if _, err := os.Stat(path + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dotlock left behind after a failed Sync: %v", err)
	}
	// The next batch starts afresh.
	m.fsync = (*os.File).Sync
	commitMsg(t, m, "Subject: 4\n\nfour\n")
	if err := m.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := readMbox(t, path); got != synced+fromA+"Subject: 4\n\nfour\n\n" {
		t.Errorf("next batch: mbox holds %q", got)
	}
}

func TestMboxBatchOnlyAbortedReleasesLocks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mbox")
	m := newTestMbox(t, path, nil)
	if err := deliverOne(t, m, []byte("x\n")).Abort(); err != nil {
		t.Fatal(err)
	}
	// Nothing committed: no Sync needed to free the mbox.
	if _, err := os.Stat(path + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dotlock held after the batch's only message was aborted: %v", err)
	}
	if got := readMbox(t, path); got != "" {
		t.Errorf("mbox holds %q after Abort", got)
	}
}

func TestMboxCloseSyncsOpenBatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mbox")
	m := newTestMbox(t, path, nil)
	commitMsg(t, m, "Subject: 1\n\none\n")
	synced := false
	m.fsync = func(f *os.File) error { synced = true; return f.Sync() }
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if !synced {
		t.Error("Close did not fsync the open batch")
	}
	if _, err := os.Stat(path + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dotlock left behind after Close: %v", err)
	}
	if got := readMbox(t, path); got != fromA+"Subject: 1\n\none\n\n" {
		t.Errorf("mbox holds %q", got)
	}
}

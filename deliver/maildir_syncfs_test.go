package deliver

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMaildirSyncfsFailureDeliversNothing: when the batch's syncfs fails,
// Sync reports it and none of the batch's messages is in new/ or left in
// tmp/, as for a failed fsync.
func TestMaildirSyncfsFailureDeliversNothing(t *testing.T) {
	path := t.TempDir()
	md, err := NewMaildir(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer md.Close()
	calls := 0
	md.syncfs = func(*os.File) error { calls++; return &os.PathError{Op: "syncfs", Path: "x", Err: syscall.EIO} }
	md.dirty = func() int64 { return 0 }
	for i := range 5 {
		if err := deliverOne(t, md, testMessage(i)).Commit(); err != nil {
			t.Fatal(err)
		}
	}
	err = md.Sync()
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("Sync = %v, want the syncfs error", err)
	}
	if calls != 1 {
		t.Errorf("%d syncfs calls for one batch, want 1", calls)
	}
	for _, sub := range []string{"tmp", "new"} {
		if n := dirNames(t, filepath.Join(path, sub)); len(n) != 0 {
			t.Errorf("%s/ holds %v after a failed syncfs", sub, n)
		}
	}
}

// TestMaildirSyncfsOnlyWhenQuiet: with more dirty data on the machine than
// dirtyLimit, a batch is made durable by fsyncs, not by a syncfs that would
// write out everyone's data; with little, by one syncfs; with fewer than
// three files, by fsyncs.
func TestMaildirSyncfsOnlyWhenQuiet(t *testing.T) {
	for _, c := range []struct {
		name  string
		dirty int64
		n     int
		want  int // syncfs calls
	}{
		{"quiet", 0, 5, 1},
		{"busy", dirtyLimit + 1, 5, 0},
		{"unknown", -1, 5, 0},
		{"two files", 0, 2, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := t.TempDir()
			md, err := NewMaildir(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer md.Close()
			calls := 0
			md.syncfs = func(f *os.File) error { calls++; return f.Sync() }
			md.dirty = func() int64 { return c.dirty }
			for i := range c.n {
				if err := deliverOne(t, md, testMessage(i)).Commit(); err != nil {
					t.Fatal(err)
				}
			}
			if err := md.Sync(); err != nil {
				t.Fatal(err)
			}
			if calls != c.want {
				t.Errorf("%d syncfs calls, want %d", calls, c.want)
			}
			// fsyncs the rules forced (a busy machine, an unknown one, few
			// files) teach the chooser nothing about a quiet one.
			if measured := md.choice.cost != [2]time.Duration{}; measured != (c.name == "quiet") {
				t.Errorf("chooser costs %v after the batch", md.choice.cost)
			}
			if n := dirNames(t, filepath.Join(path, "new")); len(n) != c.n {
				t.Errorf("new/ holds %d messages, want %d", len(n), c.n)
			}
		})
	}
}

// TestMaildirLargeBatchStaysOnSyncfs: a batch larger than maxDeferred that
// takes syncfs makes its early files durable by a syncfs too (started in
// the background when maxDeferred files wait), not by an fsync each, and
// every message arrives.
func TestMaildirLargeBatchStaysOnSyncfs(t *testing.T) {
	path := t.TempDir()
	md, err := NewMaildir(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer md.Close()
	var mu sync.Mutex
	calls := 0
	md.syncfs = func(f *os.File) error {
		mu.Lock()
		calls++
		mu.Unlock()
		return f.Sync()
	}
	md.dirty = func() int64 { return 0 }
	n := 2*maxDeferred + 44
	for i := range n {
		if err := deliverOne(t, md, testMessage(i)).Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if err := md.Sync(); err != nil {
		t.Fatal(err)
	}
	if calls != 3 {
		t.Errorf("%d syncfs calls for %d files, want 3 (two at maxDeferred, one at the end)", calls, n)
	}
	if got := dirNames(t, filepath.Join(path, "new")); len(got) != n {
		t.Errorf("new/ holds %d messages, want %d", len(got), n)
	}
	if got := dirNames(t, filepath.Join(path, "tmp")); len(got) != 0 {
		t.Errorf("tmp/ still holds %d files", len(got))
	}
}

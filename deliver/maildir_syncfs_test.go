package deliver

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
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
			if n := dirNames(t, filepath.Join(path, "new")); len(n) != c.n {
				t.Errorf("new/ holds %d messages, want %d", len(n), c.n)
			}
		})
	}
}

package deliver

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// A crash between Prepare and Sync leaves durable files in tmp/ only;
// Recover publishes them and reports exactly the keys that are delivered.
func TestMaildirPrepareRecover(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "Maildir")
	md, err := NewMaildir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for i := 0; i < 3; i++ {
		tx := deliverOne(t, md, testMessage(i))
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tx.(Keyed).Key())
	}
	if err := md.Prepare(); err != nil {
		t.Fatal(err)
	}
	if got := dirNames(t, filepath.Join(dir, "new")); len(got) != 0 {
		t.Fatalf("new/ after Prepare: %v, want empty", got)
	}
	if got := dirNames(t, filepath.Join(dir, "tmp")); len(got) != 3 {
		t.Fatalf("tmp/ after Prepare: %v, want 3 staged files", got)
	}
	// The crash: this process never syncs. A mail reader has meanwhile
	// moved nothing; a new process recovers, naming also a key that was
	// never staged.
	md2, err := NewMaildir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	// One message was published before the crash and read since (cur/).
	os.Rename(filepath.Join(dir, "tmp", keys[2]), filepath.Join(dir, "cur", keys[2]+":2,S"))
	got, err := md2.Recover(append(slices.Clone(keys), "1700000000.M1P1Q1R1.lost"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !got[k] {
			t.Errorf("key %s not reported delivered", k)
		}
	}
	if len(got) != 3 {
		t.Errorf("Recover reported %v, want the 3 real keys only", got)
	}
	if names := dirNames(t, filepath.Join(dir, "new")); len(names) != 2 {
		t.Errorf("new/ after Recover: %v, want 2", names)
	}
	if names := dirNames(t, filepath.Join(dir, "tmp")); len(names) != 0 {
		t.Errorf("tmp/ after Recover: %v, want empty", names)
	}
	// Recover is idempotent.
	again, err := md2.Recover(keys)
	if err != nil || len(again) != 3 {
		t.Errorf("second Recover = %v, %v", again, err)
	}
}

// Sync after Prepare publishes the prepared messages and later commits.
func TestMaildirPrepareThenSync(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "Maildir")
	md, err := NewMaildir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	commitOne(t, md, 1)
	if err := md.Prepare(); err != nil {
		t.Fatal(err)
	}
	commitOne(t, md, 2)
	if err := md.Sync(); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, filepath.Join(dir, "new")); len(names) != 2 {
		t.Errorf("new/ after Sync: %v, want 2", names)
	}
}

func commitOne(t *testing.T, d Deliverer, i int) {
	t.Helper()
	if err := deliverOne(t, d, testMessage(i)).Commit(); err != nil {
		t.Fatal(err)
	}
}

package ledger

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/gofetchmail/gofetchmail/deliver"
)

// A maildir batch sealed and then finished while the next batch is
// written: the finish publishes and records exactly the sealed batch,
// never a message of the next (which is neither journaled nor recorded
// yet), so a kill at any point delivers nothing twice.
func TestMaildirSealLeavesNextBatchAlone(t *testing.T) {
	dir := t.TempDir()
	uids, err := LoadUIDStore(filepath.Join(dir, "fetchids"))
	if err != nil {
		t.Fatal(err)
	}
	md, err := deliver.NewMaildir(filepath.Join(dir, "Maildir"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer md.Close()
	c := New().Open(md, uids, "u@h", slog.New(slog.NewTextHandler(io.Discard, nil)))
	put := func(uid string) {
		tx, err := md.Begin(context.Background(), deliver.Envelope{})
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(tx, "Subject: "+uid+"\n\nbody\n")
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		c.Delivered(tx, uid)
	}
	inNew := func() int {
		names, _ := os.ReadDir(filepath.Join(dir, "Maildir", "new"))
		return len(names)
	}
	put("a")
	put("b")
	finish, overlapped := c.Seal([]string{"a", "b"})
	if !overlapped {
		t.Fatal("a maildir batch is not sealed for an overlapped commit")
	}
	put("c") // the next batch streams in before the first is finished
	if err := finish(); err != nil {
		t.Fatal(err)
	}
	if n := inNew(); n != 2 {
		t.Errorf("%d messages in new/ after the first batch's commit, want its 2", n)
	}
	if !uids.Has("u@h", "a") || !uids.Has("u@h", "b") || uids.Has("u@h", "c") {
		t.Errorf("recorded %v, want a and b only", uids.Seen("u@h"))
	}
	if left, _ := filepath.Glob(JournalPattern(uids.Path())); len(left) != 0 {
		t.Errorf("journals left: %v", left)
	}
	finish, _ = c.Seal([]string{"c"})
	if err := finish(); err != nil {
		t.Fatal(err)
	}
	if n := inNew(); n != 3 || !uids.Has("u@h", "c") {
		t.Errorf("after the second batch: %d in new/, recorded %v", n, uids.Seen("u@h"))
	}
}

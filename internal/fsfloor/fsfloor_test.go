package fsfloor

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestMaildirEveryStrategy: each strategy leaves n files, each holding the
// body, in new/ and none in tmp/.
func TestMaildirEveryStrategy(t *testing.T) {
	body := Body(1000)
	for _, s := range Strategies {
		t.Run(s, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "Maildir")
			if _, err := Maildir(dir, 70, body, s); err != nil {
				t.Fatal(err)
			}
			names, err := os.ReadDir(filepath.Join(dir, "new"))
			if err != nil || len(names) != 70 {
				t.Fatalf("new/ holds %d files (%v), want 70", len(names), err)
			}
			b, err := os.ReadFile(filepath.Join(dir, "new", names[0].Name()))
			if err != nil || !bytes.Equal(b, body) {
				t.Errorf("a file holds %d bytes (%v), want the body's %d", len(b), err, len(body))
			}
			if tmp, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(tmp) != 0 {
				t.Errorf("tmp/ holds %d files", len(tmp))
			}
		})
	}
	if _, err := Maildir(t.TempDir(), 1, body, "none"); err == nil {
		t.Error("an unknown strategy was accepted")
	}
}

func TestMbox(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mbox")
	if _, err := Mbox(path, 100, Body(5000)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte("From fsfloor@")); n != 100 {
		t.Errorf("%d messages in the mbox, want 100", n)
	}
}

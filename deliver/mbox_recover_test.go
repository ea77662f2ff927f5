package deliver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

// recoverFixture writes one message in a first batch, then a second batch
// of two whole messages (whose start and end the hooks report) and, after
// it, appends part of a third message as a killed run would leave it.
func recoverFixture(t *testing.T) (path string, before []byte, start, lastEnd int64) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "mbox")
	m := newTestMbox(t, path, nil)
	if err := deliverOne(t, m, []byte("Subject: old\n\nkept\n")).Commit(); err != nil {
		t.Fatal(err)
	}
	if err := m.Sync(); err != nil {
		t.Fatal(err)
	}
	before, _ = os.ReadFile(path)
	start = -1
	m.OnBatch(func(s int64) error { start = s; return nil })
	for _, body := range []string{"Subject: one\n\nFrom quoted\n", "Subject: two\n\nx\n"} {
		tx := deliverOne(t, m, []byte(body))
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		lastEnd = tx.(Appended).End()
	}
	if err := m.Sync(); err != nil {
		t.Fatal(err)
	}
	if start != int64(len(before)) {
		t.Fatalf("OnBatch reported start %d, want %d", start, len(before))
	}
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("From a@example.org Fri Nov 27 10:00:00 2026\nSubject: three\n\n>From a quoted line\nhalf a mes")
	f.Close()
	return path, before, start, lastEnd
}

func TestRecoverMboxCutsTheBatch(t *testing.T) {
	path, before, start, lastEnd := recoverFixture(t)
	n, err := RecoverMbox(context.Background(), path, start, lastEnd, nil)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(path)
	if string(after) != string(before) || n == 0 {
		t.Fatalf("removed %d bytes; the mbox is now\n%q\nwant\n%q", n, after, before)
	}
	// Again: nothing left to remove.
	if n, err := RecoverMbox(context.Background(), path, start, lastEnd, nil); err != nil || n != 0 {
		t.Errorf("second recovery: %d, %v", n, err)
	}
	if _, err := os.Stat(path + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dotlock left behind: %v", err)
	}
}

func TestRecoverMboxLeavesForeignMail(t *testing.T) {
	path, _, start, lastEnd := recoverFixture(t)
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("sage\n\nFrom other@example.org Fri Nov 27 10:05:00 2026\nSubject: not ours\n\nhello\n\n")
	f.Close()
	had, _ := os.ReadFile(path)
	if _, err := RecoverMbox(context.Background(), path, start, lastEnd, nil); !errors.Is(err, ErrForeignData) {
		t.Fatalf("got %v, want ErrForeignData", err)
	}
	if now, _ := os.ReadFile(path); string(now) != string(had) {
		t.Error("the mbox was changed")
	}
	// Offsets that do not fit the file are not trusted either.
	if _, err := RecoverMbox(context.Background(), path, start, int64(len(had))+10, nil); !errors.Is(err, ErrForeignData) {
		t.Errorf("lastEnd past the end: got %v", err)
	}
}

func TestForeignAfter(t *testing.T) {
	long := strings.Repeat("x", 100<<10) // lines longer than the read buffer
	for in, want := range map[string]bool{
		"":                                 false,
		"\n\n":                             false,
		"From a x\nbody\n":                 false,
		"\n\nFrom a x\n>From b\n":          false,
		"From a x\nb\n\nFrom c y\n":        true,
		"From a x\nFrom b y\n":             true,
		"From a x\nFro":                    false,
		"From a x\nxFrom b\nFromage\n":     false,
		"\nFro":                            false, // killed inside its own From line
		"partial\n":                        true,  // not a message start: not ours
		"From a x\n" + long + "From b\n":   false,
		"From a x\n" + long + "\nFrom b\n": true,
		"From a x\n" + long + "\n" + long + "From b\n": false,
	} {
		got, err := foreignAfter(iotest.HalfReader(strings.NewReader(in)))
		if err != nil || got != want {
			t.Errorf("foreignAfter(%.40q...) = %v, %v; want %v", in, got, err, want)
		}
	}
}

// A mail reader that rewrote the mbox since (expunging its first message)
// moved everything: the journal's offsets no longer mark the batch, and
// nothing is cut.
func TestRecoverMboxLeavesRewrittenMbox(t *testing.T) {
	path, before, start, lastEnd := recoverFixture(t)
	data, _ := os.ReadFile(path)
	rewritten := data[len(before):]
	os.WriteFile(path, rewritten, 0o600)
	if _, err := RecoverMbox(context.Background(), path, start, lastEnd, nil); !errors.Is(err, ErrForeignData) {
		t.Fatalf("got %v, want ErrForeignData", err)
	}
	if now, _ := os.ReadFile(path); string(now) != string(rewritten) {
		t.Error("the mbox was changed")
	}
}

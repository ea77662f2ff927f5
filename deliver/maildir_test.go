package deliver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/emersion/go-maildir"
)

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func testMessage(i int) []byte {
	return fmt.Appendf(nil, "From: a@example.org\nSubject: message %d\n\nFrom the body %d\n>From here\nno final newline %d", i, i, i)
}

func deliverOne(t *testing.T, d Deliverer, msg []byte) Tx {
	t.Helper()
	tx, err := d.Begin(context.Background(), Envelope{From: "a@example.org", To: []string{"me"}})
	if err != nil {
		t.Fatal(err)
	}
	// Two writes, split mid-line, as the engine may do.
	half := len(msg) / 2
	if _, err := tx.Write(msg[:half]); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Write(msg[half:]); err != nil {
		t.Fatal(err)
	}
	return tx
}

func TestMaildirNoBatchByteExact(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "Maildir")
	md, err := NewMaildir(path, &MaildirOptions{NoBatch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer md.Close()
	for _, sub := range []string{"", "tmp", "new", "cur"} {
		fi, err := os.Stat(filepath.Join(path, sub))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o700 {
			t.Errorf("%s mode %v, want 0700", sub, fi.Mode().Perm())
		}
	}
	msg := testMessage(1)
	tx := deliverOne(t, md, msg)
	if n := dirNames(t, filepath.Join(path, "new")); len(n) != 0 {
		t.Fatalf("new/ holds %v before Commit", n)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if n := dirNames(t, filepath.Join(path, "tmp")); len(n) != 0 {
		t.Errorf("tmp/ holds %v after Commit", n)
	}
	if err := md.Sync(); err != nil {
		t.Fatal(err)
	}
	// A Maildir reader sees exactly our bytes.
	msgs, err := maildir.Dir(path).Unseen()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("reader sees %d messages, want 1", len(msgs))
	}
	got, err := os.ReadFile(msgs[0].Filename())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Errorf("delivered %q, want %q", got, msg)
	}
	fi, _ := os.Stat(msgs[0].Filename())
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("message mode %v, want 0600", fi.Mode().Perm())
	}
	if err := tx.Abort(); err != nil {
		t.Errorf("Abort after Commit: %v", err)
	}
	if _, err := os.Stat(msgs[0].Filename()); err != nil {
		t.Errorf("Abort after Commit removed the message: %v", err)
	}
}

func TestMaildirBatchNothingInNewBeforeSync(t *testing.T) {
	path := t.TempDir()
	md, err := NewMaildir(path, &MaildirOptions{Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer md.Close()
	var want [][]byte
	for i := range 5 {
		msg := testMessage(i)
		want = append(want, msg)
		if err := deliverOne(t, md, msg).Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if n := dirNames(t, filepath.Join(path, "new")); len(n) != 0 {
		t.Fatalf("new/ holds %v before Sync", n)
	}
	if n := dirNames(t, filepath.Join(path, "tmp")); len(n) != 5 {
		t.Fatalf("tmp/ holds %d files before Sync, want 5", len(n))
	}
	if err := md.Sync(); err != nil {
		t.Fatal(err)
	}
	if n := dirNames(t, filepath.Join(path, "tmp")); len(n) != 0 {
		t.Errorf("tmp/ holds %v after Sync", n)
	}
	var got [][]byte
	for _, n := range dirNames(t, filepath.Join(path, "new")) {
		b, err := os.ReadFile(filepath.Join(path, "new", n))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b)
	}
	slices.SortFunc(got, bytes.Compare)
	slices.SortFunc(want, bytes.Compare)
	if !slices.EqualFunc(got, want, bytes.Equal) {
		t.Errorf("new/ holds %q, want %q", got, want)
	}
	if err := md.Sync(); err != nil {
		t.Errorf("empty Sync: %v", err)
	}
}

func TestMaildirAbortLeavesNothing(t *testing.T) {
	for _, batch := range []bool{false, true} {
		t.Run(fmt.Sprint("batch=", batch), func(t *testing.T) {
			path := t.TempDir()
			md, err := NewMaildir(path, &MaildirOptions{NoBatch: !batch})
			if err != nil {
				t.Fatal(err)
			}
			tx := deliverOne(t, md, bytes.Repeat([]byte("x\n"), 50000)) // past the buffer
			if err := tx.Abort(); err != nil {
				t.Fatal(err)
			}
			if err := tx.Abort(); err != nil {
				t.Errorf("second Abort: %v", err)
			}
			if err := tx.Commit(); err == nil {
				t.Error("Commit after Abort succeeded")
			}
			if err := md.Sync(); err != nil {
				t.Fatal(err)
			}
			for _, sub := range []string{"tmp", "new", "cur"} {
				if n := dirNames(t, filepath.Join(path, sub)); len(n) != 0 {
					t.Errorf("%s/ holds %v after Abort", sub, n)
				}
			}
		})
	}
}

func TestMaildirCloseDiscardsUnsynced(t *testing.T) {
	path := t.TempDir()
	md, err := NewMaildir(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := deliverOne(t, md, testMessage(1)).Commit(); err != nil {
		t.Fatal(err)
	}
	if err := md.Close(); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"tmp", "new"} {
		if n := dirNames(t, filepath.Join(path, sub)); len(n) != 0 {
			t.Errorf("%s/ holds %v after Close without Sync", sub, n)
		}
	}
}

func TestMaildirSyncFailureCleansTmp(t *testing.T) {
	path := t.TempDir()
	md, err := NewMaildir(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer md.Close()
	for i := range 3 {
		if err := deliverOne(t, md, testMessage(i)).Commit(); err != nil {
			t.Fatal(err)
		}
	}
	// new/ vanishes: the renames must fail and nothing may stay in tmp/.
	if err := os.Remove(filepath.Join(path, "new")); err != nil {
		t.Fatal(err)
	}
	err = md.Sync()
	if err == nil {
		t.Fatal("Sync succeeded without new/")
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Sync error %v does not wrap ErrNotExist", err)
	}
	if n := dirNames(t, filepath.Join(path, "tmp")); len(n) != 0 {
		t.Errorf("tmp/ holds %v after a failed Sync", n)
	}
}

func TestMaildirErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := NewMaildir(filepath.Join(file, "Maildir"), nil)
	if !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("maildir under a file: %v, want ENOTDIR", err)
	}
	if err != nil && !bytes.Contains([]byte(err.Error()), []byte(file)) {
		t.Errorf("error %q does not name the path", err)
	}

	// tmp/ replaced by a file after opening: Begin must fail.
	path := filepath.Join(dir, "md")
	md, err := NewMaildir(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(path, "tmp"))
	os.WriteFile(filepath.Join(path, "tmp"), nil, 0o600)
	if _, err := md.Begin(context.Background(), Envelope{}); !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("Begin with tmp a file: %v, want ENOTDIR", err)
	}
	if _, err := NewMaildir(path, nil); err == nil {
		t.Error("NewMaildir accepted tmp being a file")
	}
}

func TestMaildirReadOnly(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: chmod does not stop writes (TestMaildirErrors covers failures)")
	}
	path := t.TempDir()
	md, err := NewMaildir(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(path, "tmp"), 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(filepath.Join(path, "tmp"), 0o700)
	if _, err := md.Begin(context.Background(), Envelope{}); !errors.Is(err, os.ErrPermission) {
		t.Errorf("Begin in read-only tmp/: %v, want permission error", err)
	}
}

// keyForm is the modern Maildir name newKey writes, up to the host.
var keyForm = regexp.MustCompile(`^[0-9]+\.M[0-9]{1,6}P[0-9]+Q[0-9]+R[0-9a-f]{16}\.`)

func TestNewKeyUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		k, err := newKey()
		if err != nil {
			t.Fatal(err)
		}
		if seen[k] {
			t.Fatalf("duplicate key %q", k)
		}
		if bytes.ContainsAny([]byte(k), "/:") {
			t.Fatalf("key %q contains / or :", k)
		}
		if !keyForm.MatchString(k) || !strings.HasSuffix(k, "."+keyHost()) {
			t.Fatalf("key %q is not SECS.MusecPpidQnRrand.host", k)
		}
		seen[k] = true
	}
}

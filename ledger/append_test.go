package ledger

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// idfileWith writes an idfile as fetchmail would have left it.
func idfileWith(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), ".fetchids")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

func load(t *testing.T, path string) *UIDStore {
	t.Helper()
	s, err := LoadUIDStore(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A Save after UIDs were only added appends their lines to the file read,
// in place (the same inode, nothing rewritten), batch after batch; the
// next run reads every UID back.
func TestIdfileAppendsAddedUIDs(t *testing.T) {
	var kept strings.Builder
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&kept, "msingh@pop.example.org %08x\n", i)
	}
	orig := "other@imap.example.com 17\n" + kept.String()
	path := idfileWith(t, orig)
	ino := inode(t, path)
	s := load(t, path)
	s.Add("msingh@pop.example.org", "new-1", "with blank") // the second is encoded
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	s.Add("other@imap.example.com", "18")
	s.Add("msingh@pop.example.org", "new-2")
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	want := orig + "msingh@pop.example.org new-1\nmsingh@pop.example.org ~gfm~d2l0aCBibGFuaw\n" +
		"other@imap.example.com 18\nmsingh@pop.example.org new-2\n"
	if got := readString(t, path); got != want {
		t.Errorf("idfile ends:\n%s\nwant:\n%s", got[len(got)-200:], want[len(want)-200:])
	}
	if inode(t, path) != ino {
		t.Error("the idfile was rewritten, not appended to")
	}
	if err := s.Save(); err != nil { // nothing new: nothing written
		t.Fatal(err)
	}
	if got := readString(t, path); got != want {
		t.Error("a Save with nothing added wrote")
	}
	r := load(t, path)
	if n := r.Len("msingh@pop.example.org"); n != 1003 {
		t.Errorf("read back %d UIDs, want 1003", n)
	}
	for _, u := range []string{"00000000", "000003e7", "new-1", "with blank", "new-2"} {
		if !r.Has("msingh@pop.example.org", u) {
			t.Errorf("%q not read back", u)
		}
	}
	if !r.Has("other@imap.example.com", "18") || !r.Has("other@imap.example.com", "17") {
		t.Error("the other account's UIDs not read back")
	}
	// In file order, the appended ones last: the walk of Lookup finds them in order.
	seen, all := r.Lookup("msingh@pop.example.org", []string{"00000000", "000003e7", "new-1", "with blank", "new-2"})
	if all || !seen[0] || !seen[4] {
		t.Errorf("Lookup %v %v", seen, all)
	}
}

// A removal takes lines out: the file is rewritten whole (a new inode,
// through the temporary file and rename), never appended to.
func TestIdfileRewritesAfterRemoval(t *testing.T) {
	orig := "u@h a\nu@h b\nv@h x\nu@h c\n"
	path := idfileWith(t, orig)
	ino := inode(t, path)
	s := load(t, path)
	s.Add("u@h", "d")
	s.Retain("u@h", map[string]bool{"a": true, "c": true, "d": true})
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if got, want := readString(t, path), "u@h a\nu@h c\nu@h d\nv@h x\n"; got != want {
		t.Errorf("idfile:\n%s\nwant:\n%s", got, want)
	}
	if inode(t, path) == ino {
		t.Error("the idfile was not rewritten")
	}
	// Once rewritten, the next additions append to the new file.
	ino = inode(t, path)
	s.Add("u@h", "e")
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if got, want := readString(t, path), "u@h a\nu@h c\nu@h d\nv@h x\nu@h e\n"; got != want || inode(t, path) != ino {
		t.Errorf("idfile after the rewrite and an addition (appended: %v):\n%s\nwant:\n%s", inode(t, path) == ino, got, want)
	}
}

// An append cut short leaves a last line without its newline. It is
// never read as a UID (here "12" of "123", a message that was not
// delivered), and the file is rewritten at the next Save, even with
// nothing new, instead of glueing new lines to it.
func TestIdfileTornAppend(t *testing.T) {
	path := idfileWith(t, "u@h 1\nu@h 2\n")
	s := load(t, path)
	s.Add("u@h", "123", "4")
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	// The kill: only "u@h 12" of the two lines reached the disk.
	if err := os.Truncate(path, int64(len("u@h 1\nu@h 2\nu@h 12"))); err != nil {
		t.Fatal(err)
	}
	r := load(t, path)
	if r.Has("u@h", "12") || r.Has("u@h", "123") || r.Has("u@h", "4") || !r.Has("u@h", "2") {
		t.Fatalf("torn file read as %v", r.Seen("u@h"))
	}
	if err := r.Save(); err != nil {
		t.Fatal(err)
	}
	if got, want := readString(t, path), "u@h 1\nu@h 2\n"; got != want {
		t.Errorf("torn file after a Save:\n%q\nwant %q", got, want)
	}
	// Torn again, and a new UID added: rewritten, the new line whole.
	if err := os.WriteFile(path, []byte("u@h 1\nu@h 2\nu@h 12"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = load(t, path)
	r.Add("u@h", "5")
	if err := r.Save(); err != nil {
		t.Fatal(err)
	}
	if got, want := readString(t, path), "u@h 1\nu@h 2\nu@h 5\n"; got != want {
		t.Errorf("torn file after an addition:\n%q\nwant %q", got, want)
	}
}

// A file that ends with the first parts of an encoded UID and not its
// last (an append cut between lines) is rewritten, not appended to: the
// parts of the next encoded UID would otherwise be read as their end.
func TestIdfileTornEncodedUID(t *testing.T) {
	key := "u@h"
	long := strings.Repeat("x y", 300) // encoded over several lines
	path := idfileWith(t, "u@h 1\n")
	w := load(t, path)
	w.Add(key, long)
	if err := w.Save(); err != nil {
		t.Fatal(err)
	}
	full := readString(t, path)
	lines := strings.SplitAfter(full, "\n")
	if len(lines) < 4 { // "u@h 1", two parts or more, ""
		t.Fatalf("the long UID took %d lines", len(lines)-2)
	}
	// Keep the first line and the first part only.
	torn := lines[0] + lines[1]
	if err := os.WriteFile(path, []byte(torn), 0o600); err != nil {
		t.Fatal(err)
	}
	r := load(t, path)
	if r.Len(key) != 1 {
		t.Fatalf("torn encoded UID read as %v", r.Seen(key))
	}
	other := strings.Repeat("z w", 300)
	r.Add(key, other)
	if err := r.Save(); err != nil {
		t.Fatal(err)
	}
	back := load(t, path)
	if back.Len(key) != 2 || !back.Has(key, other) || !back.Has(key, "1") {
		t.Errorf("after the Save, read back %d UIDs (want 1 and the new one)", back.Len(key))
	}
	if strings.Contains(readString(t, path), lines[1]) {
		t.Error("the torn part was kept")
	}
}

// The append goes only into the file that was read: not through a
// symbolic link put at its name since, not into a file of another user,
// not into a file another program replaced or grew. Each time the store
// is written whole instead (through a new file renamed into place), and
// the link's target or the other file is left as it was.
func TestIdfileAppendOnlyToTheFileRead(t *testing.T) {
	t.Run("symlink", func(t *testing.T) {
		path := idfileWith(t, "u@h 1\n")
		s := load(t, path)
		victim := filepath.Join(filepath.Dir(path), "victim")
		if err := os.WriteFile(victim, []byte("u@h 1\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(victim, path); err != nil {
			t.Fatal(err)
		}
		s.Add("u@h", "2")
		if err := s.Save(); err != nil {
			t.Fatal(err)
		}
		if got := readString(t, victim); got != "u@h 1\n" {
			t.Errorf("written through the link: %q", got)
		}
		if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() {
			t.Fatalf("idfile is not a regular file after the Save: %v %v", fi, err)
		}
		if got := readString(t, path); got != "u@h 1\nu@h 2\n" {
			t.Errorf("idfile %q", got)
		}
	})
	t.Run("other owner", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("needs root to give the idfile to another user")
		}
		path := idfileWith(t, "u@h 1\n")
		s := load(t, path)
		if err := os.Chown(path, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		planted := inode(t, path)
		s.Add("u@h", "2")
		if err := s.Save(); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != os.Geteuid() || st.Ino == planted {
			t.Errorf("appended to the other user's file (uid %d)", st.Uid)
		}
		if got := readString(t, path); got != "u@h 1\nu@h 2\n" {
			t.Errorf("idfile %q", got)
		}
	})
	t.Run("grown by another program", func(t *testing.T) {
		path := idfileWith(t, "u@h 1\n")
		s := load(t, path)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("v@h 9\n")
		f.Close()
		ino := inode(t, path)
		s.Add("u@h", "2")
		if err := s.Save(); err != nil {
			t.Fatal(err)
		}
		// Written whole from what this store holds, as every Save did
		// before appends: not glued after lines it never read.
		if got := readString(t, path); got != "u@h 1\nu@h 2\n" || inode(t, path) == ino {
			t.Errorf("idfile %q (rewritten: %v)", got, inode(t, path) != ino)
		}
	})
}

// Whatever a file holds, if its store would append to it (it ends with a
// whole line and no encoded UID in parts), the file with the appended
// lines reads back as the store with the added UID: appending never
// changes what the lines before it mean, nor they what it means.
func FuzzIdfileAppend(f *testing.F) {
	f.Add([]byte("a@b 1\nc@d 2\n"), "x@y", "z")
	f.Add([]byte("u@h ~gfm~YQ\n"), "u@h", "with blank")
	f.Add([]byte("U@H 1\n"), "u@h", strings.Repeat("long ", 150))
	f.Fuzz(func(t *testing.T, data []byte, key, uid string) {
		s, err := parseUIDStore(data)
		if err != nil {
			return
		}
		s.Len("") // parsed
		if s.rewrite || !ValidUID(uid) || s.Has(key, uid) || !strings.Contains(key, "@") {
			return // rewritten whole, not appended to; or nothing to add
		}
		if k, _, ok := parseIDLine(key + " x"); !ok || k != key || strings.ContainsAny(key, "\r\n") {
			return // not a key a line can hold (nor a rewrite: keys are written as they are)
		}
		s.Add(key, uid)
		var buf bytes.Buffer
		for _, a := range s.added {
			writeIDLines(&buf, s.keys[a.lk], a.uid)
		}
		back, err := parseUIDStore(append(append([]byte{}, data...), buf.Bytes()...))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := back.encode(), s.encode(); !bytes.Equal(got, want) {
			t.Fatalf("the file with the appended lines reads as\n%q\nwant\n%q", got, want)
		}
	})
}

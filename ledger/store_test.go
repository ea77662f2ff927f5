package ledger

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUIDStoreRoundTripKeepsForeignLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".fetchids")
	// As fetchmail writes it, with another account and a user name with '@'.
	orig := "other@mail.example.org 0000aaaa\nmsingh@localhost 00000001\nme@corp@imap.example.com ID-7\n"
	if err := os.WriteFile(path, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := LoadUIDStore(path)
	if err != nil {
		t.Fatal(err)
	}
	seen := s.Seen("MSINGH@LocalHost") // keys match case-insensitively
	if !seen["00000001"] || len(seen) != 1 {
		t.Fatalf("seen %v", seen)
	}
	if !s.Seen("me@corp@imap.example.com")["ID-7"] {
		t.Error("user names with @ are not parsed as fetchmail does")
	}
	s.Add("msingh@localhost", "00000002", "bad uid", string(make([]byte, 100)))
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	// UIDs outside RFC 1939's are recorded too, encoded (idfile_codec.go);
	// added UIDs are appended after every line read.
	want := orig + "msingh@localhost 00000002\nmsingh@localhost ~gfm~YmFkIHVpZA\nmsingh@localhost ~gfm~" + strings.Repeat("A", 134) + "\n"
	if string(got) != want {
		t.Errorf("idfile:\n%s\nwant:\n%s", got, want)
	}
	if _, err := os.Stat(path + "_"); !os.IsNotExist(err) {
		t.Error("the temporary idfile_ was left behind")
	}
	s.Remove("msingh@localhost", "00000001", "00000002", "bad uid", string(make([]byte, 100)))
	s.Remove("other@mail.example.org", "0000aaaa")
	s.Remove("me@corp@imap.example.com", "ID-7")
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("an empty store must delete the idfile, as fetchmail does")
	}
}

func TestUIDStoreRetain(t *testing.T) {
	s, _ := LoadUIDStore(filepath.Join(t.TempDir(), "ids"))
	s.Add("u@h", "a", "b", "c")
	s.Retain("u@h", map[string]bool{"b": true})
	if got := s.Seen("u@h"); len(got) != 1 || !got["b"] {
		t.Errorf("after Retain: %v", got)
	}
}

func TestValidUID(t *testing.T) {
	for uid, want := range map[string]bool{"abc": true, "": false, "a b": true, "a\nb": true, "x\x00": true, string(make([]byte, 71)): true, string(make([]byte, MaxUIDLen)): true, string(make([]byte, MaxUIDLen+1)): false} {
		if ValidUID(uid) != want {
			t.Errorf("ValidUID(%q) = %v", uid, !want)
		}
	}
}

func FuzzUIDStoreLoad(f *testing.F) {
	f.Add([]byte("a@b 1\nc@d 2\n"))
	f.Add([]byte("@ \n@@ x y\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseUIDStore(data)
		if err != nil {
			return // a line over 1 MiB
		}
		s.Add("x@y", "z")
		s2, err := parseUIDStore(s.encode())
		if err != nil {
			t.Fatal(err)
		}
		if !s2.Seen("x@y")["z"] {
			t.Fatal("round trip lost a UID")
		}
		if got := s2.encode(); !bytes.Equal(got, s.encode()) {
			t.Fatalf("encode is not stable:\n%q\n%q", s.encode(), got)
		}
	})
}

func TestUIDStoreHas(t *testing.T) {
	s, _ := LoadUIDStore(filepath.Join(t.TempDir(), "ids"))
	s.Add("U@H", "a")
	if !s.Has("u@h", "a") || s.Has("u@h", "b") || s.Has("v@h", "a") {
		t.Error("Has does not match Add (keys case-insensitive, UIDs exact)")
	}
}

func TestUIDStoreLookup(t *testing.T) {
	s, err := parseUIDStore([]byte("u@h a\nu@h b\nu@h c\nu@h d\nother@h x\n"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		listed []string
		seen   string // one letter per listed UID: y or n
		all    bool
	}{
		{[]string{"a", "b", "c", "d", "e"}, "yyyyn", true}, // in order, one new
		{[]string{"d", "c", "b", "a"}, "yyyy", true},       // reversed: the set answers
		{[]string{"a", "c", "", "d", "z"}, "yynyn", false}, // b expunged elsewhere, a message without UID
		{[]string{"x", "e"}, "nn", false},                  // another account's UID is not ours
		{nil, "", false},
	}
	for _, c := range cases {
		seen, all := s.Lookup("U@h", c.listed)
		var got strings.Builder
		for _, b := range seen {
			if b {
				got.WriteByte('y')
			} else {
				got.WriteByte('n')
			}
		}
		if got.String() != c.seen || all != c.all {
			t.Errorf("Lookup(%q) = %s, all %v; want %s, all %v", c.listed, got.String(), all, c.seen, c.all)
		}
	}
	if seen, all := s.Lookup("nobody@h", []string{"a"}); seen[0] || !all {
		t.Errorf("Lookup for an unknown account = %v, %v; want nothing seen, all", seen, all)
	}
}

// A file that repeats lines (written by hand, or by an older program)
// remembers each UID once: the background index drops the repeats before
// any method sees the lists, and the next Save writes each line once.
func TestUIDStoreRepeatedLines(t *testing.T) {
	s, err := parseUIDStore([]byte("u@h a\nu@h b\nu@h a\nother@h x\nU@h b\nu@h c\nother@h x\n"))
	if err != nil {
		t.Fatal(err)
	}
	if n := s.Len("u@h"); n != 3 {
		t.Errorf("Len(u@h) = %d, want 3", n)
	}
	if n := s.Len("other@h"); n != 1 {
		t.Errorf("Len(other@h) = %d, want 1", n)
	}
	seen, all := s.Lookup("u@h", []string{"a", "b", "c"})
	if !seen[0] || !seen[1] || !seen[2] || !all {
		t.Errorf("Lookup = %v, all %v; want all three seen, all", seen, all)
	}
	want := "u@h a\nu@h b\nu@h c\nother@h x\n"
	if got := string(s.encode()); got != want {
		t.Errorf("encode = %q, want %q", got, want)
	}
}

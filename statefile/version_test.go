package statefile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// AppendSync writes only into the file of the Version it is given, as
// this process read or wrote it: never through a link put at the name
// since, never into another user's file, a file replaced or grown, nor
// with the zero Version; each refusal is ErrChanged and writes nothing.
func TestAppendSyncOnlyToTheFileRead(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ids")
	v, err := WriteFileVersion(path, []byte("a\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AppendSync(path, Version{}, []byte("x\n")); !errors.Is(err, ErrChanged) {
		t.Errorf("zero Version: %v", err)
	}
	v, err = AppendSync(path, v, []byte("b\n"))
	if err != nil {
		t.Fatal(err)
	}
	if v, err = AppendSync(path, v, []byte("c\n")); err != nil {
		t.Fatal(err)
	}
	data, v2, err := ReadFileVersion(path)
	if err != nil || string(data) != "a\nb\nc\n" || v2 != v {
		t.Fatalf("read back %q, %v (versions %v %v)", data, err, v2, v)
	}

	// Grown by someone else: refused.
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("z\n")
	f.Close()
	if _, err := AppendSync(path, v, []byte("d\n")); !errors.Is(err, ErrChanged) {
		t.Errorf("grown file: %v", err)
	}

	// A link at the name: refused, its target untouched.
	_, v, _ = ReadFileVersion(path)
	victim := filepath.Join(dir, "victim")
	write(t, victim, "precious", 0o600)
	os.Remove(path)
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	if _, err := AppendSync(path, v, []byte("d\n")); !errors.Is(err, ErrChanged) {
		t.Errorf("symlink: %v", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Errorf("written through the link: %q", b)
	}

	// A FIFO put in its place (nobody reading it): refused, never waited on.
	os.Remove(path)
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := AppendSync(path, v, []byte("d\n")); !errors.Is(err, ErrChanged) {
		t.Errorf("FIFO: %v", err)
	}

	// Another user's file, even the same one: refused.
	os.Remove(path)
	v, err = WriteFileVersion(path, []byte("a\n"))
	if err != nil {
		t.Fatal(err)
	}
	otherUser(t, path)
	if _, err := AppendSync(path, v, []byte("d\n")); !errors.Is(err, ErrChanged) {
		t.Errorf("another user's file: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "a\n" {
		t.Errorf("another user's file written: %q", b)
	}
}

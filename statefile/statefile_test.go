package statefile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// otherUser makes path belong to another local user (nobody), as if that
// user had planted it. Only root can; other runs skip.
func otherUser(t *testing.T, path string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a file belong to another user (nobody); run the tests as root to cover planted files")
	}
	if err := os.Lchown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, path, content string, mode fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}

func wantUntrusted(t *testing.T, what string, err error, why string) {
	t.Helper()
	var u *UntrustedError
	if !errors.As(err, &u) {
		t.Fatalf("%s: got %v, want an *UntrustedError", what, err)
	}
	if !strings.Contains(u.Error(), why) {
		t.Errorf("%s: %q does not say %q", what, u.Error(), why)
	}
}

// A state file is read only when it is a regular file of the effective
// user that nobody else can write; a planted one is refused, whatever it
// is (a link, a FIFO that would block the open, a file of another user).
func TestReadFileRefusesPlanted(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	write(t, good, "ok", 0o600)
	if data, err := ReadFile(good); err != nil || string(data) != "ok" {
		t.Fatalf("own file: %q, %v", data, err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}

	link := filepath.Join(dir, "link")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(link)
	wantUntrusted(t, "symlink", err, "symbolic link")

	gw := filepath.Join(dir, "groupwritable")
	write(t, gw, "x", 0o620)
	_, err = ReadFile(gw)
	wantUntrusted(t, "group-writable", err, "others can write")
	ww := filepath.Join(dir, "worldwritable")
	write(t, ww, "x", 0o606)
	_, err = ReadFile(ww)
	wantUntrusted(t, "world-writable", err, "others can write")
	if data, err := ReadOwnedFile(gw); err != nil || string(data) != "x" {
		t.Errorf("ReadOwnedFile of an own group-writable file: %q, %v", data, err)
	}

	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = ReadFile(fifo) // must not block waiting for a writer
	wantUntrusted(t, "fifo", err, "not a regular file")

	foreign := filepath.Join(dir, "foreign")
	write(t, foreign, "x", 0o600)
	otherUser(t, foreign)
	_, err = ReadFile(foreign)
	wantUntrusted(t, "another user's file", err, "owned by uid 65534")
	_, err = ReadOwnedFile(foreign)
	wantUntrusted(t, "another user's file (owner only)", err, "owned by uid 65534")
	if err := Check(foreign); !IsUntrusted(err) {
		t.Errorf("Check: %v", err)
	}
}

// WriteFile never writes through a name someone could have planted: a
// link at the target is replaced (its target untouched), and the
// temporary file has a random name, so a link at the old fixed name
// ("<path>_") is never followed either.
func TestWriteFileNoFollow(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	write(t, victim, "precious", 0o600)
	path := filepath.Join(dir, "fetchids")
	if err := os.Symlink(victim, path+"_"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("new\n")); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "precious" {
		t.Errorf("the link's target was written: %q", data)
	}
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Fatalf("path after WriteFile: %v, %v", fi, err)
	}
	if data, err := ReadFile(path); err != nil || string(data) != "new\n" {
		t.Errorf("read back %q, %v", data, err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 3 { // victim, the planted path_, path
		t.Errorf("WriteFile left files behind: %v", ents)
	}
	if err := WriteFile(path, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("empty data did not remove the file: %v", err)
	}
}

// Create fails on anything already at the name, a dangling link
// included (it would otherwise create the link's target).
func TestCreateExclusive(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if f, err := Create(link, 0o600); err == nil {
		f.Close()
		t.Fatal("Create through a dangling link succeeded")
	}
	if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the link's target was created: %v", err)
	}
	f, err := Create(filepath.Join(dir, "new"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if f, err := Create(filepath.Join(dir, "new"), 0o600); err == nil {
		f.Close()
		t.Error("Create of an existing file succeeded")
	}
}

// The log file is never opened through a link, nor appended to when it
// belongs to someone else.
func TestOpenAppend(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	write(t, victim, "precious", 0o600)
	log := filepath.Join(dir, "log")
	if err := os.Symlink(victim, log); err != nil {
		t.Fatal(err)
	}
	_, err := OpenAppend(log)
	wantUntrusted(t, "symlinked log", err, "symbolic link")
	if data, _ := os.ReadFile(victim); string(data) != "precious" {
		t.Errorf("victim changed: %q", data)
	}
	os.Remove(log)
	f, err := OpenAppend(log)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if f, err := OpenAppend(os.DevNull); err != nil {
		t.Errorf("/dev/null: %v", err)
	} else {
		f.Close()
	}
	otherUser(t, log)
	_, err = OpenAppend(log)
	wantUntrusted(t, "another user's log", err, "owned by uid 65534")
}

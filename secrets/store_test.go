package secrets

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/rcparse"
)

// A passwordfd is read once per Store: later calls get the first line
// again although the descriptor is at its end, and a second Store (another
// process's memory) does not see what the first one read.
func TestStoreFDReadOnce(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w.WriteString("foobar\r\nignored\n")
	w.Close()
	s := NewStore()
	for i := 0; i < 2; i++ {
		pw, err := s.FD(int(r.Fd()))
		if err != nil || pw != "foobar" {
			t.Fatalf("read %d: %q, %v", i, pw, err)
		}
	}
	if pw, err := NewStore().FD(int(r.Fd())); err == nil {
		t.Errorf("a fresh Store got %q from a descriptor already read to its end", pw)
	}
}

func TestFilePasswordFirstLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(path, []byte("s3cret\r\nsecond\n"), 0o600)
	if pw, err := File(path); err != nil || pw != "s3cret" {
		t.Errorf("File = %q, %v", pw, err)
	}
	if _, err := File(path + ".missing"); err == nil || !strings.HasPrefix(err.Error(), "passwordfile: ") {
		t.Errorf("missing file: %v", err)
	}
}

// The .netrc warnings are given once per version of the file and Store:
// a daemon says them once, and again only after the file changed.
func TestStoreNetrcWarnsOncePerVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".netrc")
	os.WriteFile(path, []byte("machine m login u password p bogus\n"), 0o644)
	os.Chmod(path, 0o644)
	srv, u := &rcparse.Server{Pollname: "m"}, &rcparse.User{Remotename: "u"}
	s := NewStore()
	res, err := s.Netrc(path, srv, u)
	if err != nil || !res.Found || res.Password != "p" || len(res.Warnings) != 1 || !strings.Contains(res.Loose, "mode 0644") {
		t.Fatalf("first lookup: %+v, %v", res, err)
	}
	if strings.Contains(res.Loose+strings.Join(res.Warnings, ""), "password p") {
		t.Errorf("a warning holds the password: %+v", res)
	}
	if res, _ = s.Netrc(path, srv, u); len(res.Warnings) != 0 || res.Loose != "" || res.Password != "p" {
		t.Errorf("second lookup warned again: %+v", res)
	}
	if res, _ = NewStore().Netrc(path, srv, u); res.Loose == "" {
		t.Errorf("a fresh Store remembers another's warnings: %+v", res)
	}
	os.WriteFile(path, []byte("machine m login u password p2 bogus\n"), 0o644)
	os.Chtimes(path, time.Now(), time.Now().Add(time.Minute))
	if res, _ = s.Netrc(path, srv, u); res.Loose == "" || res.Password != "p2" {
		t.Errorf("changed file not warned about: %+v", res)
	}
	if res, err = s.Netrc(filepath.Dir(path), srv, u); err == nil {
		t.Errorf("a directory read as a .netrc: %+v", res)
	}
}

// A Store that is gone does not close the passwordfd it read: the
// descriptor is the caller's (and its number may by then be another
// file's, such as a listening socket).
func TestStoreLeavesFDOpen(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	w.WriteString("foobar\n")
	func() {
		if _, err := NewStore().FD(int(r.Fd())); err != nil {
			t.Fatal(err)
		}
	}()
	for range 10 { // let the finalizers of anything the Store left run
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(r.Fd()), &st); err != nil {
		t.Fatalf("the passwordfd was closed behind the caller's back: %v", err)
	}
}

package doctor

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gofetchmail/gofetchmail/fetch"
	"github.com/gofetchmail/gofetchmail/rcparse"
)

// TestCheckMaildir: a writable maildir passes and keeps nothing in tmp/;
// one whose tmp/ is not a directory (as root, the one setup permissions
// cannot stop) fails with status 10 and says what to move.
func TestCheckMaildir(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"tmp", "new", "cur"} {
		os.Mkdir(filepath.Join(dir, sub), 0o700)
	}
	if l := checkMaildir(dir); !l.OK {
		t.Fatalf("writable maildir: %v", l)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(ents) != 0 {
		t.Errorf("tmp/ holds %d files after the check", len(ents))
	}
	os.Remove(filepath.Join(dir, "tmp"))
	os.WriteFile(filepath.Join(dir, "tmp"), nil, 0o600)
	l := checkMaildir(dir)
	if l.OK || l.Status != fetch.StatusSMTP || !strings.Contains(l.Fix, "move the file") {
		t.Errorf("tmp/ a file: %v", l)
	}
	if os.Geteuid() != 0 {
		os.Remove(filepath.Join(dir, "tmp"))
		os.Mkdir(filepath.Join(dir, "tmp"), 0o500)
		if l := checkMaildir(dir); l.OK || !strings.Contains(l.Detail, "cannot write in tmp/") {
			t.Errorf("read-only tmp/: %v", l)
		}
	}
}

// TestCheckMbox: an mbox whose dotlock another live process holds is
// reported busy; once free, it can be locked and is left unchanged.
func TestCheckMbox(t *testing.T) {
	dir := t.TempDir()
	mbox := filepath.Join(dir, "mbox")
	os.WriteFile(mbox, []byte("From a\n\nx\n"), 0o600)
	os.WriteFile(mbox+".lock", []byte(strconv.Itoa(os.Getppid())+"\n"), 0o600)
	l := checkMbox(context.Background(), mbox)
	if l.OK || !strings.Contains(l.Detail, "locked by another program") || !strings.Contains(l.Fix, ".lock") {
		t.Errorf("held dotlock: %v", l)
	}
	os.Remove(mbox + ".lock")
	if l := checkMbox(context.Background(), mbox); !l.OK {
		t.Errorf("free mbox: %v", l)
	}
	if data, _ := os.ReadFile(mbox); string(data) != "From a\n\nx\n" {
		t.Errorf("the mbox changed: %q", data)
	}
	if _, err := os.Stat(mbox + ".lock"); err == nil {
		t.Errorf("the dotlock was left behind")
	}
}

// TestCheckMDA: a program on PATH passes, a missing one fails with 10;
// neither is run.
func TestCheckMDA(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	if l := checkMDA("sh -c 'touch " + marker + "'"); !l.OK {
		t.Errorf("sh: %v", l)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("the MDA was run")
	}
	if l := checkMDA("/nonexistent/procmail -d %T"); l.OK || l.Status != fetch.StatusSMTP {
		t.Errorf("missing MDA: %v", l)
	}
}

// TestCheckSMTPClosedPort: an smtphost nobody listens on fails with 10.
func TestCheckSMTPClosedPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	host := "127.0.0.1/" + strconv.Itoa(port)
	j := fetch.Job{Config: &rcparse.Config{}, Server: &rcparse.Server{Pollname: "x"}, User: &rcparse.User{Smtphunt: []string{host}}}
	ls := checkTarget(context.Background(), j, fetch.Options{})
	if len(ls) != 1 || ls[0].OK || ls[0].Status != fetch.StatusSMTP || !strings.Contains(ls[0].Detail, "connection refused") {
		t.Errorf("closed SMTP port: %+v", ls)
	}
}

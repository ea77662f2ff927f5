package fetch

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gofetchmail/gofetchmail/deliver"
	"github.com/gofetchmail/gofetchmail/ledger"
)

// The ways another local user can make a state file gofetchmail would
// read: a symbolic link (to a file whose content looks right), a file
// that others may write, a file of their own. "other user" needs root
// (to chown the file to nobody) and is skipped otherwise.
var plantKinds = []string{"symlink", "group-writable", "world-writable", "other user"}

// plant makes path hold content the way kind says.
func plant(t *testing.T, path, content, kind string) {
	t.Helper()
	switch kind {
	case "symlink":
		target := filepath.Join(t.TempDir(), "planted")
		if err := os.WriteFile(target, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, path); err != nil {
			t.Fatal(err)
		}
		return
	case "other user":
		if os.Geteuid() != 0 {
			t.Skip("needs root to plant a file as another user (nobody)")
		}
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	switch kind {
	case "group-writable":
		os.Chmod(path, 0o620)
	case "world-writable":
		os.Chmod(path, 0o602)
	case "other user":
		if err := os.Chown(path, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
}

func deadPid(t *testing.T) int {
	t.Helper()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	return dead.Process.Pid
}

// A delivered journal planted beside the idfile, naming a dead process
// and the UID of a message on the server, must not make that message
// count as delivered: believed, the poll records the UID and deletes the
// message without delivering it (issue 14, item 7).
func TestPlantedDeliveredJournalIgnored(t *testing.T) {
	for _, kind := range plantKinds {
		t.Run(kind, func(t *testing.T) {
			e := newTestEnv(t, testMessages(3), nil)
			planted := fmt.Sprintf("%s.journal-delivered-%d-1", e.uids.Path(), deadPid(t))
			plant(t, planted, fmt.Sprintf(`{"kind":"delivered","pid":%d,"account":%q}`+"\n"+`{"uid":"uid-0001"}`+"\n", deadPid(t), e.uidsKey()), kind)
			res := e.poll(t)
			if res.Err != nil || res.Delivered != 3 || len(e.delivered(t)) != 3 {
				t.Fatalf("poll: %+v, %d in the maildir, want all 3 delivered\n%s", res, len(e.delivered(t)), e.log)
			}
			if !strings.Contains(e.log.String(), "ignoring journal "+planted+" is not trusted") {
				t.Errorf("no warning naming the planted journal:\n%s", e.log)
			}
			if _, err := os.Lstat(planted); err != nil {
				t.Errorf("the planted journal was removed (it is not ours to remove): %v", err)
			}
		})
	}
}

// An mbox journal planted beside the idfile names an mbox and an offset to
// cut it back to: believed, it truncates the mbox (here to nothing).
func TestPlantedMboxJournalIgnored(t *testing.T) {
	for _, kind := range plantKinds {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			uids, err := LoadUIDStore(filepath.Join(dir, "fetchids"))
			if err != nil {
				t.Fatal(err)
			}
			mbox := filepath.Join(dir, "mbox")
			content := "From a@example.org Mon Dec  7 10:00:00 2026\nSubject: mine\n\nkeep me\n\n"
			if err := os.WriteFile(mbox, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			planted := uids.Path() + ".journal-mbox-0123456789abcdef"
			plant(t, planted, fmt.Sprintf(`{"kind":"mbox","pid":%d,"account":"msingh@pop.example.org","target":%q,"start":0}`+"\n", deadPid(t), mbox), kind)
			var log bytes.Buffer
			if err := ledger.New().Recover(uids, slog.New(slog.NewTextHandler(&log, nil))); err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(mbox); string(got) != content {
				t.Errorf("the mbox was changed by a planted journal: %q", got)
			}
			if !strings.Contains(log.String(), "ignoring journal "+planted) {
				t.Errorf("no warning:\n%s", log.String())
			}
		})
	}
}

// The maildir journal ("<idfile>.journal-maildir-*") names a maildir and the UIDs
// of files in it: a planted one pointing at the attacker's own maildir
// would record UIDs of messages never delivered.
func TestPlantedMaildirJournalIgnored(t *testing.T) {
	for _, kind := range plantKinds {
		t.Run(kind, func(t *testing.T) {
			e := newTestEnv(t, testMessages(2), nil)
			theirs := filepath.Join(t.TempDir(), "Maildir")
			for _, sub := range []string{"tmp", "new", "cur"} {
				os.MkdirAll(filepath.Join(theirs, sub), 0o700)
			}
			os.WriteFile(filepath.Join(theirs, "new", "k1"), []byte("Subject: x\n\n"), 0o600)
			plant(t, e.uids.Path()+".journal-maildir-planted", fmt.Sprintf(`{"kind":"maildir","pid":%d,"account":%q,"target":%q}`+"\n"+`{"uid":"uid-0001","key":"k1"}`+"\n", deadPid(t), e.uidsKey(), theirs), kind)
			res := e.poll(t)
			if res.Err != nil || res.Delivered != 2 || len(e.delivered(t)) != 2 {
				t.Fatalf("poll: %+v, %d in the maildir, want both delivered\n%s", res, len(e.delivered(t)), e.log)
			}
			if !strings.Contains(e.log.String(), "ignoring journal") {
				t.Errorf("no warning:\n%s", e.log)
			}
		})
	}
}

// An idfile another user could have written is refused with one line
// saying which file, why and what to do; the run does not poll with it
// (its UIDs would have messages deleted undelivered; ignoring it would
// deliver every kept message again).
func TestPlantedIdfileRefused(t *testing.T) {
	for _, kind := range plantKinds {
		t.Run(kind, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "fetchids")
			plant(t, path, "msingh@pop.example.org uid-0001\n", kind)
			_, err := LoadUIDStore(path)
			if err == nil {
				t.Fatal("an untrusted idfile was loaded")
			}
			msg := err.Error()
			for _, want := range []string{path, "not trusted", "remove it", "set idfile"} {
				if !strings.Contains(msg, want) {
					t.Errorf("%q does not say %q", msg, want)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("more than one line: %q", msg)
			}
		})
	}
}

// The idfile's temporary file has an unpredictable name: a link planted
// at the old fixed name "<idfile>_" is not written through.
func TestIdfileSaveDoesNotFollowPlantedLink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious"), 0o600)
	uids, err := LoadUIDStore(filepath.Join(dir, "fetchids"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, uids.Path()+"_"); err != nil {
		t.Fatal(err)
	}
	uids.Add("msingh@pop.example.org", "uid-0001")
	if err := uids.Save(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "precious" {
		t.Errorf("the file the planted link points at was overwritten: %q", got)
	}
	if got, _ := os.ReadFile(uids.Path()); string(got) != "msingh@pop.example.org uid-0001\n" {
		t.Errorf("idfile: %q", got)
	}
}

// Batch journals get unpredictable names: a link planted at the name a
// journal would have had is not written through.
func TestBatchJournalNameUnpredictable(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious"), 0o600)
	uids, err := LoadUIDStore(filepath.Join(dir, "fetchids"))
	if err != nil {
		t.Fatal(err)
	}
	// The name a delivered journal would have without its random part.
	prefix := uids.Path() + ".journal-delivered"
	if err := os.Symlink(victim, prefix); err != nil {
		t.Fatal(err)
	}
	mda, err := deliver.NewMDA("cat >/dev/null", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer mda.Close()
	c := ledger.New().Open(mda, uids, "a@b", slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer c.Close()
	c.Delivered(nil, "uid-0001") // the first delivery creates the journal
	if got, _ := os.ReadFile(victim); string(got) != "precious" {
		t.Errorf("written through the planted link: %q", got)
	}
	made, _ := filepath.Glob(prefix + "-*")
	if len(made) != 1 {
		t.Fatalf("journals named after %s: %v, want one", prefix, made)
	}
	if err := c.Commit([]string{"uid-0001"}); err != nil {
		t.Fatal(err)
	}
}

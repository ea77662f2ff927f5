package fetch

import (
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
)

// A keep poll that finds k new messages among N kept ones appends k lines
// to the idfile (the same file, its N lines untouched), and the next run,
// reading the file afresh, finds every message already delivered.
func TestKeepPollAppendsToIdfile(t *testing.T) {
	const kept, fresh = 300, 10 // kept: several batches of 64
	all := testMessages(kept + fresh)
	e := newTestEnv(t, all[:kept], nil)
	e.job.User.Keep = true
	if res := e.poll(t); res.Err != nil || res.Delivered != kept {
		t.Fatalf("first poll %+v", res)
	}
	path := e.uids.Path()
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	ino := fi.Sys().(*syscall.Stat_t).Ino

	for _, m := range all[kept:] {
		e.mbox.Add(m)
	}
	reload := func() {
		t.Helper()
		if e.uids, err = LoadUIDStore(path); err != nil { // a new run
			t.Fatal(err)
		}
	}
	reload()
	if res := e.poll(t); res.Err != nil || res.Delivered != fresh {
		t.Fatalf("keep poll %+v", res)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := string(before)
	for _, m := range all[kept:] {
		want += fmt.Sprintf("msingh@127.0.0.1 %s\n", m.UID)
	}
	if string(after) != want {
		t.Errorf("idfile after the keep poll: %d bytes, want %d (the %d lines before and %d appended)", len(after), len(want), kept, fresh)
	}
	fi, _ = os.Stat(path)
	if fi.Sys().(*syscall.Stat_t).Ino != ino {
		t.Error("the idfile was rewritten, not appended to")
	}

	reload()
	if res := e.poll(t); res.Err != nil || res.Delivered != 0 {
		t.Fatalf("next poll delivered again: %+v", res)
	}
	if n := len(e.delivered(t)); n != kept+fresh {
		t.Errorf("%d delivered, want %d", n, kept+fresh)
	}
}

// A message expunged on the server by someone else is forgotten, and only
// it, when the listing's UIDs are in ascending order (no map of them is
// built for the listing then; the one that tells what is still there is
// built when a recorded UID is missing).
func TestKeepForgetsOnlyVanishedUIDs(t *testing.T) {
	all := testMessages(5)
	e := newTestEnv(t, all, nil)
	e.job.User.Keep = true
	if res := e.poll(t); res.Err != nil || res.Delivered != 5 {
		t.Fatalf("first poll %+v", res)
	}
	// The same account on a server that lost message 2.
	rest := append(append([]pop3test.Message{}, all[:1]...), all[2:]...)
	e2 := newTestEnv(t, rest, nil)
	e2.job.User.Keep = true
	var err error
	if e2.uids, err = LoadUIDStore(e.uids.Path()); err != nil {
		t.Fatal(err)
	}
	if res := e2.poll(t); res.Err != nil || res.Delivered != 0 {
		t.Fatalf("poll after the expunge %+v", res)
	}
	got, err := os.ReadFile(e.uids.Path())
	if err != nil {
		t.Fatal(err)
	}
	want := "msingh@127.0.0.1 uid-0001\nmsingh@127.0.0.1 uid-0003\nmsingh@127.0.0.1 uid-0004\nmsingh@127.0.0.1 uid-0005\n"
	if string(got) != want {
		t.Errorf("idfile:\n%s\nwant:\n%s", got, want)
	}
}

package fetch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gofetchmail/gofetchmail/deliver"
	"github.com/gofetchmail/gofetchmail/ledger"
)

// The state a run killed after journaling a batch leaves: the batch staged
// in tmp/ (or partly published) and the journal. The next run finishes it
// and deletes those messages on the server without delivering them again.
func TestJournalRecoveryAfterCrash(t *testing.T) {
	msgs := testMessages(5)
	e := newTestEnv(t, msgs, nil)
	md, err := deliver.NewMaildir(e.maildir, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The journal as a run killed before it recorded the batch leaves it
	// (ledger's format: a head, then one line per message).
	var j bytes.Buffer
	enc := json.NewEncoder(&j)
	enc.Encode(ledger.Head{Kind: ledger.KindMaildir, Pid: deadPid(t), Account: AccountKey("msingh", "127.0.0.1"), Target: e.maildir})
	for _, m := range msgs[:3] {
		tx, err := md.Begin(context.Background(), deliver.Envelope{})
		if err != nil {
			t.Fatal(err)
		}
		tx.Write(m.Data)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		enc.Encode(ledger.Entry{UID: m.UID, Key: tx.(deliver.Keyed).Key()})
	}
	if err := md.Prepare(); err != nil {
		t.Fatal(err)
	}
	// A key the crashed run journaled but whose file never became durable.
	enc.Encode(ledger.Entry{UID: msgs[3].UID, Key: "1700000000.M1P1Q1R1.gone"})
	if err := os.WriteFile(e.uids.Path()+".journal-maildir-crashed", j.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	// The crash: md is abandoned without Sync or Close.

	res := e.poll(t)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if res.Delivered != 2 || res.Deleted != 5 {
		t.Errorf("result %+v: want 2 delivered (4 and 5) and all 5 deleted", res)
	}
	if n := len(e.delivered(t)); n != 5 {
		t.Errorf("%d messages in the maildir, want exactly 5", n)
	}
	if n := len(e.mbox.Messages()); n != 0 {
		t.Errorf("%d left on the server", n)
	}
	if left, _ := filepath.Glob(ledger.JournalPattern(e.uids.Path())); len(left) != 0 {
		t.Errorf("the journal was not removed after recovery: %v", left)
	}
}

// A normal poll leaves no journal behind.
func TestNoJournalAfterPoll(t *testing.T) {
	e := newTestEnv(t, testMessages(3), nil)
	e.opts.BatchSize = 2
	if res := e.poll(t); res.Delivered != 3 {
		t.Fatalf("%+v", res)
	}
	if left, _ := filepath.Glob(ledger.JournalPattern(e.uids.Path())); len(left) != 0 {
		t.Errorf("a journal was left behind: %v", left)
	}
}

// During a poll into an MDA, each delivered UID is journaled until its
// batch is recorded; a finished poll leaves no journal.
func TestDeliveredJournalDuringPoll(t *testing.T) {
	e := newTestEnv(t, testMessages(3), nil)
	dir := filepath.Dir(e.uids.Path())
	seen := filepath.Join(t.TempDir(), "seen")
	mda := fmt.Sprintf("sh -c 'cat %s.journal-delivered-* 2>/dev/null | grep -c uid >> %s; cat >/dev/null'", e.uids.Path(), seen)
	e.job.User.Maildir = nil
	e.job.User.MDA = &mda
	res := e.poll(t)
	if res.Err != nil || res.Delivered != 3 {
		t.Fatalf("poll: %+v\n%s", res, e.log)
	}
	data, _ := os.ReadFile(seen)
	if got := strings.Fields(string(data)); strings.Join(got, " ") != "0 1 2" {
		t.Errorf("journaled UIDs seen by the MDA of each message: %q, want 0 1 2", got)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.journal-delivered-*")); len(left) != 0 {
		t.Errorf("journals left: %v", left)
	}
}

package fetch

import (
	"context"
	"os"
	"testing"

	"github.com/gofetchmail/gofetchmail/deliver"
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
	j := journal{Account: AccountKey("msingh", "127.0.0.1"), Maildir: e.maildir}
	for _, m := range msgs[:3] {
		tx, err := md.Begin(context.Background(), deliver.Envelope{})
		if err != nil {
			t.Fatal(err)
		}
		tx.Write(m.Data)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		j.Entries = append(j.Entries, journalEntry{UID: m.UID, Key: tx.(deliver.Keyed).Key()})
	}
	if err := md.Prepare(); err != nil {
		t.Fatal(err)
	}
	// A key the crashed run journaled but whose file never became durable.
	j.Entries = append(j.Entries, journalEntry{UID: msgs[3].UID, Key: "1700000000.M1P1Q1R1.gone"})
	if err := writeJournal(journalPath(e.uids.Path()), j); err != nil {
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
	if _, err := os.Stat(journalPath(e.uids.Path())); !os.IsNotExist(err) {
		t.Error("the journal was not removed after recovery")
	}
}

// A normal poll leaves no journal behind.
func TestNoJournalAfterPoll(t *testing.T) {
	e := newTestEnv(t, testMessages(3), nil)
	e.opts.BatchSize = 2
	if res := e.poll(t); res.Delivered != 3 {
		t.Fatalf("%+v", res)
	}
	if _, err := os.Stat(journalPath(e.uids.Path())); !os.IsNotExist(err) {
		t.Error("a journal was left behind")
	}
}

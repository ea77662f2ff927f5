package fetch

import (
	"context"
	"fmt"
	"io"

	"github.com/gofetchmail/gofetchmail/mailbox"
	"github.com/gofetchmail/gofetchmail/mailbox/imapbox"
	"github.com/gofetchmail/gofetchmail/mailbox/pop3box"
)

// The engine's side of the mailbox contract (package mailbox): the session
// builds each protocol's mailbox with what it needs, and offers it the
// narrow mailbox.Engine back.

// message is one server message as listed (mailbox.Message): a POP3
// number or an IMAP UID, typed, never converted into each other.
type message = mailbox.Message

// boxConfig is what both mailboxes are given of the session.
func (s *session) boxConfig() mailbox.Config {
	return mailbox.Config{
		Engine:    (*boxEngine)(s),
		UIDs:      s.uids,
		Key:       s.key,
		Label:     s.label,
		Log:       s.opts.logger(),
		Check:     s.opts.Check,
		Fetchall:  s.job.User.Fetchall,
		BatchSize: s.opts.batchSize(),
		Debug:     s.opts.debugOn(),
	}
}

// pop3Box is the mailbox of the POP3 session s is logged in to.
func (s *session) pop3Box() *pop3box.Box {
	return pop3box.New(s.boxConfig(), pop3box.Options{Client: s.client, Caps: s.caps, Skip: s.sub.admit})
}

// imapBox is the mailbox of folder on the IMAP session s is logged in to.
// The session's idfile key becomes the folder's, and so does the
// committer's: batches never span folders.
func (s *session) imapBox(folder string) *imapbox.Box {
	u := s.job.User
	s.key = imapbox.StateKey(AccountKey(u.Remotename, queryName(s.job.Server)), folder)
	s.folder = folder
	if s.commit != nil {
		s.commit.Bind(s.key)
	}
	return imapbox.New(s.boxConfig(), imapbox.Options{
		Session:    s.imap,
		Folder:     folder,
		Limit:      u.Limit,
		Expunge:    u.Expunge,
		ExpungeSet: u.ExpungeSet,
	})
}

// boxEngine is the session as the mailbox it polls sees it.
type boxEngine session

func (e *boxEngine) NoMail(folder string) {
	s := (*session)(e)
	s.logNoMail(s.mailboxName(folder))
}

func (e *boxEngine) Count(count, seen int, folder string, octets int64) {
	s := (*session)(e)
	s.opts.logger().Info(countLine(count, seen, s.mailboxName(folder), octets))
}

func (e *boxEngine) Receive(ctx context.Context, m message, body io.Reader) (mailbox.Delivery, error) {
	st, err := (*session)(e).receive(ctx, m, body)
	if err != nil {
		return nil, err
	}
	return st, nil
}

func (e *boxEngine) Failed(ctx context.Context, m message, err error) error {
	return (*session)(e).failed(ctx, m, err)
}

func (e *boxEngine) Skipped() {
	e.idx++
	e.res.Skipped++
}

func (e *boxEngine) Progress(n int64) { (*session)(e).progress(n) }

func (e *boxEngine) BatchDue() bool { return (*session)(e).batchDue() }

func (e *boxEngine) Unrecord(match func(message) bool) {
	for i, p := range e.pending {
		if match(p) {
			e.pending[i].Entry = ""
		}
	}
}

func (e *boxEngine) EndBatch(ctx context.Context) error { return (*session)(e).endBatch(ctx) }

// Expunged counts and logs the deletions a QUIT or EXPUNGE made final, and
// only then forgets their idfile entries.
func (e *boxEngine) Expunged(ms []message) error {
	s := (*session)(e)
	n := len(ms)
	s.res.Deleted += n
	if n > 0 {
		s.opts.logger().Info(fmt.Sprintf("%d messages deleted on %s", n, s.job.Server.Pollname))
	}
	var gone []string
	for _, m := range ms {
		if m.Entry != "" {
			gone = append(gone, m.Entry)
		}
	}
	if len(gone) > 0 {
		s.uids.Remove(s.key, gone...)
	}
	return e.SaveUIDs()
}

func (e *boxEngine) SaveUIDs() error {
	if err := e.uids.Save(); err != nil {
		return &Error{Poll: e.label, Status: StatusIOErr, Err: err}
	}
	return nil
}

// Commit, Abort and Unrecord make a staged message a mailbox.Delivery.
func (st *staged) Commit() error { return st.commit() }
func (st *staged) Abort()        { st.abort() }
func (st *staged) Unrecord()     { st.m.Entry = "" }

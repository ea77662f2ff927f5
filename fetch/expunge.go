package fetch

import (
	"context"
	"fmt"

	"github.com/gofetchmail/gofetchmail/rcparse"
)

// POP3 makes deletions final only at QUIT. With "expunge N" fetchmail
// therefore splits a poll into sub-sessions: after N retrieved (and
// deleted) messages it sends QUIT, logs in again and lists the mailbox
// anew, so that a line drop late in a long poll cannot undo the deletions
// of the whole poll. "expunge 0", no expunge, keep, and -c keep the single
// session. fetchlimit counts across the sub-sessions, as in fetchmail.

// subsession is what one poll carries from one POP3 session to the next.
type subsession struct {
	limit   int             // messages one session may retrieve: expunge N, or 0
	fetched int             // messages retrieved by this poll's earlier sessions
	skip    map[string]bool // UIDs earlier sessions saw: never retrieved again in this poll

	// Filled by the current session.
	admitted []string // UIDs of its new messages
	deferred []string // UIDs cut off by the limit, for the next session
	capped   bool     // the limit cut its batch: another session follows
}

// expungeLimit is how many messages one session may retrieve under
// "expunge N": N for an entry that deletes what it retrieves, else 0.
func expungeLimit(u *rcparse.User) int {
	if u.Keep || u.Expunge <= 0 {
		return 0
	}
	return u.Expunge
}

// runSessions runs the POP3 sessions of one poll: one, or with "expunge N"
// as many as it takes to retrieve N messages per session. It returns the
// last session, whose result holds the totals of the whole poll.
func runSessions(ctx context.Context, d *dialer, j Job, uids *UIDStore, opts *Options) (*session, error) {
	sub := &subsession{limit: expungeLimit(j.User), skip: map[string]bool{}}
	if opts.Check {
		sub.limit = 0
	}
	var total Result
	maxSessions := 1
	for n := 1; ; n++ {
		s := &session{job: j, opts: opts, uids: uids, label: j.Label(), sub: sub}
		s.key = AccountKey(j.User.Remotename, queryName(j.Server))
		sub.admitted, sub.deferred, sub.capped = nil, nil, false
		err := s.run(ctx, d)
		deleted := s.res.Deleted // applied by this session's QUIT
		total = addResult(total, s.res, n == 1)
		s.res = total
		if n == 1 && sub.limit > 0 {
			// Each session takes N of the messages the first one found
			// waiting; more sessions than that mean a server that does not
			// delete (mail that arrives meanwhile waits for the next poll).
			maxSessions = (total.Waiting+sub.limit-1)/sub.limit + 1
		}
		// Another session only after progress: without deletions the
		// next one would list the same messages again.
		if err != nil || !sub.capped || s.res.Status == StatusMaxFetch || deleted == 0 || n >= maxSessions {
			return s, err
		}
		sub.remember()
		opts.logger().Info(fmt.Sprintf("expunge %d: QUIT made %d deletions final on %s; starting session %d", sub.limit, deleted, j.Server.Pollname, n+1), "poll", s.label)
	}
}

// addResult adds the result of one session to the poll's totals. Waiting
// is the first session's: later sessions count the same messages again.
func addResult(total, r Result, first bool) Result {
	if first {
		total.Waiting = r.Waiting
	}
	total.Delivered += r.Delivered
	total.Deleted += r.Deleted
	total.Skipped += r.Skipped
	if total.Status != StatusMaxFetch {
		total.Status = r.Status
	}
	return total
}

// admit drops the messages an earlier session of this poll saw: left on
// the server (failed or oversized: retrying would repeat the failure), or
// deleted by a server whose QUIT did not delete them (retrieving them again
// would deliver them twice). It remembers the UIDs of the others.
func (sub *subsession) admit(fresh []message) []message {
	if sub == nil {
		return fresh
	}
	out := fresh[:0]
	for _, m := range fresh {
		if m.Entry != "" && sub.skip[m.Entry] {
			continue
		}
		if m.Entry != "" {
			sub.admitted = append(sub.admitted, m.Entry)
		}
		out = append(out, m)
	}
	return out
}

// remember adds to the skip set the new messages of the session that ended,
// except those it deferred to the next session.
func (sub *subsession) remember() {
	later := make(map[string]bool, len(sub.deferred))
	for _, u := range sub.deferred {
		later[u] = true
	}
	for _, u := range sub.admitted {
		if !later[u] {
			sub.skip[u] = true
		}
	}
}

// capBatch cuts the messages a session is about to retrieve to what the
// poll may still retrieve: fetchlimit (status 13 when it cuts; one counter
// for the POP3 sessions or the IMAP folders of a poll) and, under POP3's
// "expunge N", N per session.
func (s *session) capBatch(want []message) []message {
	log := s.opts.logger()
	u, sub := s.job.User, s.sub
	if sub == nil {
		sub = &subsession{}
	}
	n := len(want)
	if sub.limit > 0 && n > sub.limit {
		n = sub.limit
		sub.capped = true
	}
	if u.Fetchlimit > 0 {
		left := max(u.Fetchlimit-sub.fetched, 0)
		if len(want) > left && n >= left {
			log.Info(fmt.Sprintf("fetchlimit %d reached; %d messages left on the server", u.Fetchlimit, len(want)-left))
			n = left
			sub.capped = false
			s.res.Status = StatusMaxFetch
		}
	}
	if sub.capped {
		log.Info(fmt.Sprintf("expunge %d: %d messages left for the next session", sub.limit, len(want)-n))
		for _, m := range want[n:] {
			if m.Entry != "" {
				sub.deferred = append(sub.deferred, m.Entry)
			}
		}
	}
	sub.fetched += n
	if n < len(want) {
		s.box.LeftBehind(want[n:]...)
	}
	return want[:n]
}

package fetch

import (
	"fmt"
	"time"
)

// keepdays N (a gofetchmail extension, docs/extensions.md): with keep, a
// message is deleted on the server by the first poll that runs N days or
// more after its delivery was recorded. What it may delete is only ever an
// old message (recorded in the idfile by an earlier poll: durably delivered),
// so the poll that delivers a message never deletes it. The date is the
// ledger's (ledger/dates.go), taken from Options.Now when the UID is
// recorded. A recorded UID without a date (an idfile fetchmail wrote, a
// journal recovered, keepdays newly set) has its clock started now; a date
// in the future (the clock was set back since) starts again now: neither is
// ever deleted early. Without keep, or with flush, keepdays changes nothing;
// -k on the command line clears it (cmd/gofetchmail).

// keepdaysPoll is what one mailbox's poll did by keepdays, for its -v line.
type keepdaysPoll struct {
	key  string
	days int
	aged []string // idfile entries of the messages past their days, marked for deletion
}

// keepdaysOn reports whether keepdays applies to the job's messages.
func (s *session) keepdaysOn() bool {
	u := s.job.User
	return u.Keepdays != nil && u.Keep && !u.Flush
}

// agedOut starts keepdays for the mailbox being polled (s.key), before
// anything is delivered, so that what this poll records is dated; it marks
// for deletion the recorded messages past their days and returns the
// others: the old ones, which stay kept, and the fresh ones to retrieve.
// Under fetchall a recorded message is listed fresh too (POP3: only
// fresh); past its days it is deleted, not fetched again.
func (s *session) agedOut(old, fresh []message) (keptOld, keptFresh []message, err error) {
	if !s.keepdaysOn() {
		return old, fresh, nil
	}
	log := s.opts.logger()
	days := *s.job.User.Keepdays
	if err := s.uids.TrackDates(s.key, s.opts.now); err != nil {
		return nil, nil, &Error{Poll: s.label, Status: StatusIOErr, Err: err}
	}
	now := s.opts.now()
	if last, ok := s.uids.LastClock(); ok && now.Before(last.Add(-time.Minute)) {
		log.Warn(fmt.Sprintf("%s: the clock reads %s, %s earlier than at an earlier poll (%s): it was set back; keepdays deletes nothing early, kept messages dated after now start their days again",
			s.label, now.UTC().Format(time.RFC3339), last.Sub(now).Round(time.Second), last.UTC().Format(time.RFC3339)))
	}
	s.uids.NoteClock(now)
	kd := &keepdaysPoll{key: s.key, days: days}
	var aged []message
	isAged := map[string]bool{} // by idfile entry
	undated, future := 0, 0
	judge := func(m message) {
		if m.Entry == "" || isAged[m.Entry] {
			return
		}
		// Only a message recorded as delivered has a date, or gets one.
		t, ok := s.uids.Delivered(s.key, m.Entry)
		switch {
		case !ok && s.uids.Has(s.key, m.Entry):
			s.uids.SetDelivered(s.key, m.Entry, now)
			undated++
		case !ok:
		case t.After(now):
			s.uids.SetDelivered(s.key, m.Entry, now)
			future++
		case now.Sub(t) >= time.Duration(days)*24*time.Hour:
			isAged[m.Entry] = true
			aged = append(aged, m)
			kd.aged = append(kd.aged, m.Entry)
		}
	}
	for _, m := range old {
		judge(m)
	}
	if s.job.User.Fetchall {
		for _, m := range fresh {
			judge(m)
		}
	}
	drop := func(ms []message) []message {
		var out []message
		for _, m := range ms {
			if m.Entry == "" || !isAged[m.Entry] {
				out = append(out, m)
			}
		}
		return out
	}
	keptOld, keptFresh = drop(old), drop(fresh)
	if undated > 0 {
		log.Debug(fmt.Sprintf("keepdays: %d kept messages of %s had no delivery date (an idfile written by fetchmail, or keepdays newly set); their %d days start now", undated, s.label, days))
	}
	if future > 0 {
		log.Warn(fmt.Sprintf("%s: %d kept messages have a delivery date after the clock's %s (the clock was set back?); the dates are ignored and their %d days start now",
			s.label, future, now.UTC().Format(time.RFC3339), days))
	}
	if err := s.uids.Save(); err != nil {
		return nil, nil, &Error{Poll: s.label, Status: StatusIOErr, Err: err}
	}
	s.markDelete(aged...)
	s.kd = kd
	return keptOld, keptFresh, nil
}

// reportKeepdays logs (-v) how many kept messages were past their days and
// how many of them were deleted (their deletion final: forgotten by the
// idfile), once the mailbox's deletions are final.
func (s *session) reportKeepdays() {
	kd := s.kd
	if kd == nil {
		return
	}
	s.kd = nil
	deleted := 0
	for _, uid := range kd.aged {
		if !s.uids.Has(kd.key, uid) {
			deleted++
		}
	}
	s.opts.logger().Debug(fmt.Sprintf("keepdays %d: %d kept messages of %s past their days, %d deleted", kd.days, len(kd.aged), s.label, deleted))
}

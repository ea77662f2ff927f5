package fetch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/gofetchmail/gofetchmail/pop3"
)

// sizeMessages fills in the sizes of msgs (the messages this poll may
// fetch) out of count on the server. Only fresh messages need a size (for
// limit, the progress line and the endless-message cap). When they are few
// next to the mailbox, as in a large mailbox kept on the server, one
// pipelined "LIST n" each is much less work for both sides than a LIST of
// every message; otherwise one LIST does it.
func (s *session) sizeMessages(ctx context.Context, msgs []message, count int) error {
	if len(msgs) == 0 {
		return nil
	}
	var sizes []pop3.Size
	var err error
	if len(msgs)*8 < count {
		nums := make([]int, len(msgs))
		for i, m := range msgs {
			nums[i] = int(m.num)
		}
		sizes, err = s.client.ListMany(ctx, nums, s.window())
		var perr *pop3.Error
		if errors.As(err, &perr) {
			// A message the server cannot size (it vanished under
			// another session): fetched without a size, as with no
			// LIST at all; RETR will tell.
			s.opts.logger().Debug("LIST refused for a message", "err", err)
			err = nil
		}
	} else {
		sizes, err = s.client.List(ctx)
	}
	if err != nil {
		return err
	}
	at := make(map[msgNum]int, len(msgs))
	for i, m := range msgs {
		at[m.num] = i
	}
	for _, x := range sizes {
		if i, ok := at[msgNum(x.Num)]; ok {
			msgs[i].size = x.Size
		}
	}
	return nil
}

// listing is the mailbox as its listing shows it (listMessages).
type listing struct {
	msgs []message // by ascending number
	// times is how many messages have each UID; nil when the UIDs are
	// in strictly ascending byte order, and so each once (dovecot's
	// default "%08Xu%08Xv" lists them so): no map of 100,000 to build
	// for a large kept mailbox. count builds it when it is needed.
	times map[string]int
	// consistent: the listing agrees with STAT and lists no number
	// twice, so a recorded UID it lacks is gone from the server.
	consistent bool
	sized      bool // the sizes are known (LIST was the listing)
}

// listMessages returns the messages of the mailbox as the server lists
// them: the numbers UIDL lists (with their UIDs) or, from a server
// without UIDL, those LIST lists (with their sizes). count, the STAT
// count, is only a claim: RFC 1939 section 7 has UIDL and LIST list every
// message not marked deleted, so a listing that disagrees with STAT is
// believed, with one warning. A server that counts a million messages and
// lists three costs three RETRs, not a million, and one that counts fewer
// than it lists has every listed message fetched. The cost is bounded by
// the listing, which the pop3 client bounds by the STAT count.
//
// A number listed twice with different UIDs keeps neither: which one is
// its own cannot be told, and the wrong one could make it "already
// delivered" and have it deleted unread. Numbers out of order are sorted.
func (s *session) listMessages(ctx context.Context, count int) (listing, error) {
	log := s.opts.logger()
	uidl, uerr := s.client.UIDL(ctx)
	var src string
	type entry struct {
		uid      string
		size     int64
		conflict bool
	}
	byNum := map[int]*entry{}
	twice := 0
	sized := false
	var msgs []message
	if uerr == nil && ascending(uidl) {
		// Every real server lists its messages in order, each once: no
		// number to look up or sort (100,000 kept messages cost a map
		// and a sort of 100,000 otherwise).
		src = "UIDL"
		msgs = make([]message, len(uidl))
		for i, x := range uidl {
			msgs[i] = message{num: msgNum(x.Num), uid: x.UID}
		}
	} else if uerr == nil {
		src = "UIDL"
		for _, x := range uidl {
			e := byNum[x.Num]
			switch {
			case e == nil:
				byNum[x.Num] = &entry{uid: x.UID}
			case e.uid != x.UID && !e.conflict:
				e.conflict = true
				twice++
			}
		}
	} else {
		var perr *pop3.Error
		if !errors.As(uerr, &perr) {
			return listing{}, uerr
		}
		log.Debug("server has no UIDL; every message is new", "err", uerr)
		sizes, err := s.client.List(ctx)
		if err != nil {
			return listing{}, err
		}
		src, sized = "LIST", true
		for _, x := range sizes {
			if x.Num < 1 {
				continue
			}
			if byNum[x.Num] == nil {
				byNum[x.Num] = &entry{size: x.Size}
			}
		}
	}
	out := listing{msgs: msgs, sized: sized}
	if msgs == nil {
		out.msgs = make([]message, 0, len(byNum))
		for n, e := range byNum {
			m := message{num: msgNum(n), size: e.size}
			if !e.conflict {
				m.uid = e.uid
			}
			out.msgs = append(out.msgs, m)
		}
		slices.SortFunc(out.msgs, func(a, b message) int { return cmp.Compare(a.num, b.num) })
	}
	if !uidsAscending(out.msgs) {
		out.times = out.count()
	}
	out.consistent = src == "UIDL" && len(out.msgs) == count && twice == 0 && (count == 0 || out.msgs[count-1].num == msgNum(count))
	if len(out.msgs) != count {
		log.Warn(fmt.Sprintf("%s: the server's STAT counts %d messages but its %s lists %d; only the listed messages are fetched", s.label, count, src, len(out.msgs)))
	}
	if twice > 0 {
		log.Warn(fmt.Sprintf("%s: the server's UIDL lists %d message numbers more than once with different UIDs; they are fetched as if they had none", s.label, twice))
	}
	return out, nil
}

// ascending reports whether a UIDL listing has its numbers in strictly
// ascending order (so none twice).
func ascending(uidl []pop3.UID) bool {
	for i := 1; i < len(uidl); i++ {
		if uidl[i].Num <= uidl[i-1].Num {
			return false
		}
	}
	return true
}

// uidsAscending reports whether every message has a UID and the UIDs are
// in strictly ascending byte order, which makes them distinct.
func uidsAscending(msgs []message) bool {
	for i := range msgs {
		if msgs[i].uid == "" || i > 0 && msgs[i].uid <= msgs[i-1].uid {
			return false
		}
	}
	return true
}

// count returns how many messages have each UID.
func (l listing) count() map[string]int {
	if l.times != nil {
		return l.times
	}
	times := make(map[string]int, len(l.msgs))
	for _, m := range l.msgs {
		if m.uid != "" {
			times[m.uid]++
		}
	}
	return times
}

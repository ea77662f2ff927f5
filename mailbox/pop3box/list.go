package pop3box

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/gofetchmail/gofetchmail/mailbox"
	"github.com/gofetchmail/gofetchmail/pop3"
)

// sizeMessages fills in the sizes of msgs (the messages this poll may
// fetch) out of count on the server. Only fresh messages need a size (for
// limit, the progress line and the endless-message cap). When they are few
// next to the mailbox, as in a large mailbox kept on the server, one
// pipelined "LIST n" each is much less work for both sides than a LIST of
// every message; otherwise one LIST does it.
func (b *Box) sizeMessages(ctx context.Context, msgs []mailbox.Message, count int) error {
	if len(msgs) == 0 {
		return nil
	}
	var sizes []pop3.Size
	var err error
	if len(msgs)*8 < count {
		nums := make([]int, len(msgs))
		for i, m := range msgs {
			nums[i] = int(m.Num)
		}
		sizes, err = b.Client.ListMany(ctx, nums, b.window())
		var perr *pop3.Error
		if errors.As(err, &perr) {
			// A message the server cannot size (it vanished under
			// another session): fetched without a size, as with no
			// LIST at all; RETR will tell.
			b.Log.Debug("LIST refused for a message", "err", err)
			err = nil
		}
	} else {
		sizes, err = b.Client.List(ctx)
	}
	if err != nil {
		return err
	}
	at := make(map[mailbox.Num]int, len(msgs))
	for i, m := range msgs {
		at[m.Num] = i
	}
	for _, x := range sizes {
		if i, ok := at[mailbox.Num(x.Num)]; ok {
			msgs[i].Size = x.Size
		}
	}
	return nil
}

// listing is the mailbox as its listing shows it (listMessages).
type listing struct {
	msgs []mailbox.Message // by ascending number
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
func (b *Box) listMessages(ctx context.Context, count int) (listing, error) {
	log := b.Log
	uidl, uerr := b.Client.UIDL(ctx)
	var src string
	type entry struct {
		uid      string
		size     int64
		conflict bool
	}
	byNum := map[int]*entry{}
	twice := 0
	sized := false
	var msgs []mailbox.Message
	if uerr == nil && ascending(uidl) {
		// Every real server lists its messages in order, each once: no
		// number to look up or sort (100,000 kept messages cost a map
		// and a sort of 100,000 otherwise).
		src = "UIDL"
		msgs = make([]mailbox.Message, len(uidl))
		for i, x := range uidl {
			msgs[i] = mailbox.Message{Num: mailbox.Num(x.Num), Entry: x.UID}
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
		sizes, err := b.Client.List(ctx)
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
		out.msgs = make([]mailbox.Message, 0, len(byNum))
		for n, e := range byNum {
			m := mailbox.Message{Num: mailbox.Num(n), Size: e.size}
			if !e.conflict {
				m.Entry = e.uid
			}
			out.msgs = append(out.msgs, m)
		}
		slices.SortFunc(out.msgs, func(a, c mailbox.Message) int { return cmp.Compare(a.Num, c.Num) })
	}
	if !uidsAscending(out.msgs) {
		out.times = out.count()
	}
	out.consistent = src == "UIDL" && len(out.msgs) == count && twice == 0 && (count == 0 || out.msgs[count-1].Num == mailbox.Num(count))
	if len(out.msgs) != count {
		log.Warn(fmt.Sprintf("%s: the server's STAT counts %d messages but its %s lists %d; only the listed messages are fetched", b.Label, count, src, len(out.msgs)))
	}
	if twice > 0 {
		log.Warn(fmt.Sprintf("%s: the server's UIDL lists %d message numbers more than once with different UIDs; they are fetched as if they had none", b.Label, twice))
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
func uidsAscending(msgs []mailbox.Message) bool {
	for i := range msgs {
		if msgs[i].Entry == "" || i > 0 && msgs[i].Entry <= msgs[i-1].Entry {
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
		if m.Entry != "" {
			times[m.Entry]++
		}
	}
	return times
}

package imap

import (
	"context"
	"fmt"
	"slices"

	goimap "github.com/emersion/go-imap/v2"
)

// Mailbox is what SELECT (or EXAMINE) says about a mailbox.
type Mailbox struct {
	Name        string
	UIDValidity uint32 // 0 if the server sent none (RFC 2060 servers)
	UIDNext     uint32 // 0 if the server sent none
	Exists      uint32 // number of messages
}

// Select opens a mailbox, read-only (EXAMINE) when readOnly is set.
func (s *Session) Select(ctx context.Context, name string, readOnly bool) (*Mailbox, error) {
	cmd := "SELECT"
	if readOnly {
		cmd = "EXAMINE"
	}
	if err := s.start(); err != nil {
		return nil, wrap(cmd, err)
	}
	var d *goimap.SelectData
	err := s.call(ctx, cmd, func() error {
		var err error
		d, err = s.client.Select(name, &goimap.SelectOptions{ReadOnly: readOnly}).Wait()
		return err
	})
	if err != nil {
		return nil, err
	}
	return &Mailbox{Name: name, UIDValidity: d.UIDValidity, UIDNext: uint32(d.UIDNext), Exists: d.NumMessages}, nil
}

// Query selects messages for Search; the fields combine with AND.
type Query struct {
	Unseen    bool   // not \Seen
	Undeleted bool   // not \Deleted
	FromUID   uint32 // UID FromUID:* (only UIDs >= FromUID are returned)
}

// Search runs UID SEARCH and returns the matching UIDs in ascending order.
func (s *Session) Search(ctx context.Context, q Query) ([]uint32, error) {
	if err := s.start(); err != nil {
		return nil, wrap("UID SEARCH", err)
	}
	crit := &goimap.SearchCriteria{}
	if q.Unseen {
		crit.NotFlag = append(crit.NotFlag, goimap.FlagSeen)
	}
	if q.Undeleted {
		crit.NotFlag = append(crit.NotFlag, goimap.FlagDeleted)
	}
	if q.FromUID > 0 {
		var set goimap.UIDSet
		set.AddRange(goimap.UID(q.FromUID), 0) // FromUID:*
		crit.UID = []goimap.UIDSet{set}
	}
	var out []uint32
	err := s.call(ctx, "UID SEARCH", func() error {
		s.budget.limit(s.searchBudget)
		d, err := s.client.UIDSearch(crit, nil).Wait()
		if s.budget.unlimit() {
			s.kill() // the answer was cut off mid-line: nothing more can be read
			return &ProtocolError{Op: "UID SEARCH", Msg: fmt.Sprintf("the answer is longer than %d MiB", s.searchBudget>>20)}
		}
		if err != nil {
			return err
		}
		out, err = searchUIDs(d, q.FromUID)
		return err
	})
	slices.Sort(out)
	return slices.Compact(out), err
}

// MaxSearchResults is the most UIDs Search accepts from one answer: a
// server that claims more is refused rather than allocated for.
const MaxSearchResults = 1 << 22

// searchUIDs expands the UIDs of a SEARCH answer, keeping those >= from
// (n:* matches the last message even when its UID is below n). It does
// not use SearchData.AllUIDs: that panics on a "*" a server put in the
// answer and never ends on UID 4294967295 (its loop counter wraps).
func searchUIDs(d *goimap.SearchData, from uint32) ([]uint32, error) {
	set, ok := d.All.(goimap.UIDSet)
	if !ok {
		return nil, nil // no SEARCH answer at all: nothing matched
	}
	var n uint64
	for _, r := range set {
		if r.Start == 0 || r.Stop == 0 {
			return nil, &ProtocolError{Op: "UID SEARCH", Msg: "the answer holds UID 0"}
		}
		n += uint64(r.Stop) - uint64(r.Start) + 1
		if n > MaxSearchResults {
			return nil, &ProtocolError{Op: "UID SEARCH", Msg: fmt.Sprintf("the answer holds more than %d UIDs", MaxSearchResults)}
		}
	}
	out := make([]uint32, 0, n)
	for _, r := range set {
		for u := uint64(r.Start); u <= uint64(r.Stop); u++ {
			if uint32(u) >= from {
				out = append(out, uint32(u))
			}
		}
	}
	return out, nil
}

// Sizes returns the RFC822.SIZE of each of uids (UID FETCH). Messages the
// server no longer has are missing from the map.
func (s *Session) Sizes(ctx context.Context, uids []uint32) (map[uint32]int64, error) {
	out := make(map[uint32]int64, len(uids))
	if len(uids) == 0 {
		return out, nil
	}
	if err := s.start(); err != nil {
		return nil, wrap("UID FETCH", err)
	}
	err := s.call(ctx, "UID FETCH", func() error {
		cmd := s.client.Fetch(uidSet(uids), &goimap.FetchOptions{UID: true, RFC822Size: true})
		for {
			msg := cmd.Next()
			if msg == nil {
				break
			}
			b, err := msg.Collect()
			if err != nil {
				cmd.Close()
				return err
			}
			if b.UID != 0 {
				out[uint32(b.UID)] = b.RFC822Size
			}
		}
		return cmd.Close()
	})
	return out, err
}

// Store adds flags to the messages uids (UID STORE +FLAGS.SILENT).
func (s *Session) Store(ctx context.Context, uids []uint32, flags ...string) error {
	if len(uids) == 0 {
		return nil
	}
	if err := s.start(); err != nil {
		return wrap("UID STORE", err)
	}
	fl := make([]goimap.Flag, len(flags))
	for i, f := range flags {
		fl[i] = goimap.Flag(f)
	}
	return s.call(ctx, "UID STORE", func() error {
		return s.client.Store(uidSet(uids), &goimap.StoreFlags{Op: goimap.StoreFlagsAdd, Silent: true, Flags: fl}, nil).Close()
	})
}

// Expunge removes the messages marked \Deleted: only uids with UID
// EXPUNGE when the server has UIDPLUS, else all of them (EXPUNGE).
func (s *Session) Expunge(ctx context.Context, uids []uint32) error {
	if err := s.start(); err != nil {
		return wrap("EXPUNGE", err)
	}
	var uidplus bool
	if err := s.call(ctx, "CAPABILITY", func() error { uidplus = s.client.Caps().Has(goimap.CapUIDPlus); return nil }); err != nil {
		return err
	}
	if len(uids) > 0 && uidplus {
		return s.call(ctx, "UID EXPUNGE", func() error { return s.client.UIDExpunge(uidSet(uids)).Close() })
	}
	return s.call(ctx, "EXPUNGE", func() error { return s.client.Expunge().Close() })
}

// The flags a retriever sets.
const (
	FlagSeen    = `\Seen`
	FlagDeleted = `\Deleted`
)

func uidSet(uids []uint32) goimap.UIDSet {
	var set goimap.UIDSet
	for _, u := range uids {
		set.AddNum(goimap.UID(u))
	}
	return set
}

// ListUIDs returns the UID of every message of the selected mailbox in
// the order of their sequence numbers (FETCH 1:* (UID)), duplicates
// included: unlike a UID SEARCH answer, which imapclient folds into a
// set, it shows a server that gives two messages the same UID. It is the
// listing of the mailbox; the EXISTS count is only a claim. A message
// the server lists without a UID is left out; one listed twice under the
// same sequence number counts once. At most MaxSearchResults messages.
func (s *Session) ListUIDs(ctx context.Context) ([]uint32, error) {
	if err := s.start(); err != nil {
		return nil, wrap("FETCH", err)
	}
	var out []uint32
	err := s.call(ctx, "FETCH", func() error {
		var all goimap.SeqSet
		all.AddRange(1, 0) // 1:*
		cmd := s.client.Fetch(all, &goimap.FetchOptions{UID: true})
		for {
			msg := cmd.Next()
			if msg == nil {
				break
			}
			b, err := msg.Collect()
			if err != nil {
				cmd.Close()
				return err
			}
			if b.UID == 0 {
				continue
			}
			if len(out) == MaxSearchResults {
				s.kill() // the rest is not worth reading
				return &ProtocolError{Op: "FETCH", Msg: fmt.Sprintf("the mailbox lists more than %d messages", MaxSearchResults)}
			}
			out = append(out, uint32(b.UID))
		}
		return cmd.Close()
	})
	return out, err
}

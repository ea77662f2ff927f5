package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/gofetchmail/gofetchmail/statefile"
)

// Delivery dates (keepdays, docs/extensions.md).
//
// The date a UID was delivered lives beside the idfile, in "<idfile>.dates",
// never in the idfile itself: fetchmail reads and rewrites the idfile, and a
// file it does not know it leaves alone. One line per dated UID,
//
//	SECONDS KEY UID
//
// SECONDS the Unix time at which the UID was recorded (its batch durable and
// in the idfile), KEY and UID as in the idfile, each written as it is when
// every byte is 0x21..0x7E and it does not start with '~', else as '~' and
// the unpadded base64url of its bytes. A line "@clock SECONDS" holds the
// clock reading of the last poll that used dates (to log a clock set back).
// Lines it cannot read are dropped: a UID without a date has its clock
// started by the next poll, which never deletes early.
//
// The file is read only for an account with keepdays (TrackDates), written
// by Save after the idfile (so a date is never on disk for a UID the idfile
// does not hold yet: a kill between the two leaves a UID without a date,
// whose clock starts later, never earlier), through statefile like the
// idfile, and only trusted when statefile trusts it.

const datesHeader = "# gofetchmail delivery dates (keepdays): SECONDS KEY UID\n"

// datesPath is the dates file of the idfile path.
func datesPath(idfile string) string { return idfile + ".dates" }

// dateBook is the dates part of a UIDStore; its fields are guarded by the
// store's mu.
type dateBook struct {
	loaded bool
	dated  map[string]bool             // lower-cased keys whose new UIDs get dates
	dates  map[string]map[string]int64 // lower-cased key -> UID -> Unix seconds
	clock  int64                       // "@clock": 0 when none
	saved  int64                       // the clock as last read or written
	now    func() time.Time
	dirty  bool
}

// TrackDates reads the dates file (once) and makes every UID that Add
// records for key from now on dated with now(). It is called by a poll of
// an account with keepdays, before anything is delivered. A dates file
// that statefile does not trust is an error: its dates could delete kept
// messages early.
func (s *UIDStore) TrackDates(key string, now func() time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wait()
	if err := s.loadDates(); err != nil {
		return err
	}
	s.book.dated[strings.ToLower(key)] = true
	s.book.now = now
	return nil
}

func (s *UIDStore) loadDates() error {
	b := &s.book
	if b.loaded {
		return nil
	}
	b.dated = map[string]bool{}
	b.dates = map[string]map[string]int64{}
	b.loaded = true
	if s.path == "" {
		return nil
	}
	p := datesPath(s.path)
	data, err := statefile.ReadFile(p)
	if statefile.IsUntrusted(err) {
		return fmt.Errorf("keepdays dates file %w; not deleting by date with it: remove it if you did not make it (the days of the kept messages then start again)", err)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("keepdays dates file: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "@clock" {
			if n, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				b.clock, b.saved = n, n
			}
			continue
		}
		if len(f) != 3 {
			continue
		}
		n, err1 := strconv.ParseInt(f[0], 10, 64)
		key, ok1 := decodeDateField(f[1])
		uid, ok2 := decodeDateField(f[2])
		if err1 != nil || n <= 0 || !ok1 || !ok2 {
			continue
		}
		lk := strings.ToLower(key)
		if b.dates[lk] == nil {
			b.dates[lk] = map[string]int64{}
		}
		b.dates[lk][uid] = n
	}
	return nil
}

// Delivered returns the date recorded for uid of key, if any. Only a UID
// the store holds has one.
func (s *UIDStore) Delivered(key, uid string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wait()
	lk := strings.ToLower(key)
	l, ok := s.uids[lk]
	if !ok {
		return time.Time{}, false
	}
	if _, ok := l.set[uid]; !ok {
		return time.Time{}, false
	}
	n, ok := s.book.dates[lk][uid]
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}

// SetDelivered records t as the date of uid of key, a UID the store holds
// (one without a date, or with a date in the future: its clock starts
// again at t).
func (s *UIDStore) SetDelivered(key, uid string, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wait()
	lk := strings.ToLower(key)
	if l, ok := s.uids[lk]; !ok || !has(l, uid) {
		return
	}
	s.setDate(lk, uid, t)
}

func has(l *uidList, uid string) bool { _, ok := l.set[uid]; return ok }

func (s *UIDStore) setDate(lk, uid string, t time.Time) {
	b := &s.book
	if !b.loaded {
		return
	}
	if b.dates[lk] == nil {
		b.dates[lk] = map[string]int64{}
	}
	b.dates[lk][uid] = max(t.Unix(), 1)
	b.dirty = true
}

// dateNew dates the UIDs Add just recorded for lk, if lk is tracked.
func (s *UIDStore) dateNew(lk string, uids []string) {
	b := &s.book
	if !b.loaded || !b.dated[lk] || len(uids) == 0 {
		return
	}
	t := b.now()
	for _, u := range uids {
		s.setDate(lk, u, t)
	}
}

// forgetDates drops the dates of UIDs Remove forgot.
func (s *UIDStore) forgetDates(lk string, uids []string) {
	m := s.book.dates[lk]
	for _, u := range uids {
		if _, ok := m[u]; ok {
			delete(m, u)
			s.book.dirty = true
		}
	}
}

// LastClock is the clock reading the last poll that used dates noted
// (NoteClock), and whether there is one.
func (s *UIDStore) LastClock() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.book.clock == 0 {
		return time.Time{}, false
	}
	return time.Unix(s.book.clock, 0), true
}

// NoteClock records t as the clock reading of this poll, written with the
// next Save of the dates. A clock that merely moved on less than
// clockSlack does not by itself rewrite the file (a daemon polling every
// few minutes would rewrite it at every poll); one that went back does.
func (s *UIDStore) NoteClock(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := &s.book
	if !b.loaded {
		return
	}
	n := t.Unix()
	if n < b.clock || n >= b.saved+int64(clockSlack/time.Second) {
		b.dirty = true
	}
	b.clock = n
}

// clockSlack is how far the clock may move on before NoteClock alone
// rewrites the dates file.
const clockSlack = time.Hour

// saveDates writes the dates file if it changed: the dates of the UIDs the
// store holds, in the store's order. s.mu is held; the idfile is written.
func (s *UIDStore) saveDates() error {
	b := &s.book
	if !b.loaded || !b.dirty || s.path == "" {
		return nil
	}
	var buf bytes.Buffer
	buf.WriteString(datesHeader)
	if b.clock != 0 {
		fmt.Fprintf(&buf, "@clock %d\n", b.clock)
	}
	for _, lk := range s.order {
		m := b.dates[lk]
		if len(m) == 0 {
			continue
		}
		key := encodeDateField(s.keys[lk])
		for _, u := range s.uids[lk].order {
			if n, ok := m[u]; ok {
				fmt.Fprintf(&buf, "%d %s %s\n", n, key, encodeDateField(u))
			}
		}
	}
	if err := statefile.WriteFile(datesPath(s.path), buf.Bytes()); err != nil {
		return fmt.Errorf("keepdays dates file: %w", err)
	}
	b.dirty, b.saved = false, b.clock
	return nil
}

func encodeDateField(v string) string {
	plain := v != "" && v[0] != '~'
	for i := 0; plain && i < len(v); i++ {
		plain = v[i] >= 0x21 && v[i] <= 0x7e
	}
	if plain {
		return v
	}
	return "~" + uidEncoding.EncodeToString([]byte(v))
}

func decodeDateField(f string) (string, bool) {
	rest, ok := strings.CutPrefix(f, "~")
	if !ok {
		return f, f != ""
	}
	b, err := uidEncoding.DecodeString(rest)
	if err != nil || len(b) == 0 {
		return "", false
	}
	return string(b), true
}

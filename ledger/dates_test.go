package ledger

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The dates of keepdays live beside the idfile, which stays byte for byte
// fetchmail's; they survive a new process, odd keys and UIDs included, and
// follow the UIDs the store forgets.
func TestDatesBesideTheIdfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".fetchids")
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	now := t0
	clock := func() time.Time { return now }
	s, err := LoadUIDStore(path)
	if err != nil {
		t.Fatal(err)
	}
	odd := "a b\x01~c"
	s.Add("plain@host", "before") // recorded before keepdays was on: no date
	if err := s.TrackDates("Plain@Host", clock); err != nil {
		t.Fatal(err)
	}
	s.Add("plain@host", "u1", odd)
	now = t0.Add(time.Hour)
	s.Add("plain@host", "u1", "u2") // u1 is not new: its date stays
	s.Add("other@host", "x")        // not tracked: no date
	s.NoteClock(now)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	idf, _ := os.ReadFile(path)
	if want := "plain@host before\nplain@host u1\nplain@host ~gfm~YSBiAX5j\nplain@host u2\nother@host x\n"; string(idf) != want {
		t.Errorf("idfile:\n%s\nwant (fetchmail's format, no dates):\n%s", idf, want)
	}
	r, err := LoadUIDStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Delivered("plain@host", "u1"); ok {
		t.Error("dates read before TrackDates")
	}
	if err := r.TrackDates("plain@host", clock); err != nil {
		t.Fatal(err)
	}
	for uid, want := range map[string]time.Time{"u1": t0, odd: t0, "u2": t0.Add(time.Hour)} {
		if got, ok := r.Delivered("plain@host", uid); !ok || !got.Equal(want) {
			t.Errorf("date of %q: %v %v, want %v", uid, got, ok, want)
		}
	}
	for _, k := range [][2]string{{"plain@host", "before"}, {"other@host", "x"}, {"plain@host", "nosuch"}} {
		if _, ok := r.Delivered(k[0], k[1]); ok {
			t.Errorf("%v has a date", k)
		}
	}
	if c, ok := r.LastClock(); !ok || !c.Equal(t0.Add(time.Hour)) {
		t.Errorf("clock %v %v", c, ok)
	}
	// Forgotten UIDs lose their dates; a UID delivered again gets a new one.
	r.Remove("plain@host", "u1")
	now = t0.Add(48 * time.Hour)
	r.Add("plain@host", "u1")
	if err := r.Save(); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Delivered("plain@host", "u1"); !got.Equal(now) {
		t.Errorf("u1 delivered again: date %v, want %v", got, now)
	}
	r.Remove("plain@host", "u2")
	if err := r.Save(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path + ".dates")
	if strings.Contains(string(data), " u2\n") {
		t.Errorf("the date of a forgotten UID stays:\n%s", data)
	}
}

// A dates file another user could have written is refused: its dates could
// delete kept messages early. A line that does not parse is dropped (its
// UID's clock starts again), never read as a date.
func TestDatesFileTrust(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".fetchids")
	os.WriteFile(path, []byte("u@h a\nu@h b\n"), 0o600)
	os.WriteFile(path+".dates", []byte("100 u@h a\n1x0 u@h b\n"), 0o666)
	os.Chmod(path+".dates", 0o666)
	s, err := LoadUIDStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.TrackDates("u@h", time.Now); err == nil || !strings.Contains(err.Error(), "keepdays dates file") {
		t.Errorf("a world-writable dates file: %v", err)
	}
	os.Chmod(path+".dates", 0o600)
	s, _ = LoadUIDStore(path)
	if err := s.TrackDates("u@h", time.Now); err != nil {
		t.Fatal(err)
	}
	if d, ok := s.Delivered("u@h", "a"); !ok || d.Unix() != 100 {
		t.Errorf("a: %v %v", d, ok)
	}
	if _, ok := s.Delivered("u@h", "b"); ok {
		t.Error("an unreadable line gave a date")
	}
	os.Remove(path + ".dates")
	if err := os.Symlink(path, path+".dates"); err != nil {
		t.Fatal(err)
	}
	s, _ = LoadUIDStore(path)
	if err := s.TrackDates("u@h", time.Now); err == nil {
		t.Error("a dates file that is a symbolic link was read")
	}
}

// Whatever the dates file holds, reading it does not panic, and a date is
// only ever given for a UID the idfile holds.
func FuzzDatesFile(f *testing.F) {
	f.Add([]byte("# c\n@clock 5\n100 u@h a\n200 u@h ~YSBi\n"))
	f.Add([]byte("1 ~ ~\n-5 u@h a\n9999999999999999999 u@h a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), ".fetchids")
		os.WriteFile(path, []byte("u@h a\n"), 0o600)
		os.WriteFile(path+".dates", data, 0o600)
		s, err := LoadUIDStore(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.TrackDates("u@h", time.Now); err != nil {
			t.Fatal(err)
		}
		for _, uid := range []string{"a b", "b", ""} {
			if _, ok := s.Delivered("u@h", uid); ok {
				t.Errorf("a date for %q, which the idfile does not hold", uid)
			}
		}
		if d, ok := s.Delivered("u@h", "a"); ok && d.Unix() <= 0 {
			t.Errorf("date %v", d)
		}
	})
}

// A poll that changes nothing but the clock does not rewrite the dates file
// (a daemon's polls minutes apart), unless the clock went back or moved on
// by an hour or more.
func TestDatesClockRewrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".fetchids")
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	s, _ := LoadUIDStore(path)
	if err := s.TrackDates("u@h", func() time.Time { return t0 }); err != nil {
		t.Fatal(err)
	}
	s.Add("u@h", "a")
	s.NoteClock(t0)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	inode := func() uint64 {
		fi, err := os.Stat(path + ".dates")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Sys().(*syscall.Stat_t).Ino
	}
	for _, c := range []struct {
		at      time.Duration
		rewrite bool
	}{{10 * time.Minute, false}, {59 * time.Minute, false}, {time.Hour, true}, {time.Hour - time.Second, true}, {2 * time.Hour, true}} {
		before := inode()
		s.NoteClock(t0.Add(c.at))
		if err := s.Save(); err != nil {
			t.Fatal(err)
		}
		if got := inode() != before; got != c.rewrite {
			t.Errorf("clock at +%v: rewritten %v, want %v", c.at, got, c.rewrite)
		}
	}
	r, _ := LoadUIDStore(path)
	r.TrackDates("u@h", time.Now)
	if c, _ := r.LastClock(); !c.Equal(t0.Add(2 * time.Hour)) {
		t.Errorf("clock %v", c)
	}
}

package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"github.com/gofetchmail/gofetchmail/pop3"
	"github.com/gofetchmail/gofetchmail/statefile"
)

// MaxUIDLen bounds a UID the store remembers: the longest a POP3 listing
// may hold (pop3.MaxUIDLen); IMAP entries are short.
const MaxUIDLen = pop3.MaxUIDLen

// UIDStore is fetchmail's idfile (~/.fetchids): one line per remembered
// message, "remotename@queryname UID". It remembers the messages that were
// delivered and are still on the server (kept, or not yet expunged).
// Lines of accounts not polled in this run are kept verbatim, so fetchmail
// and gofetchmail can share one file.
//
// Save appends the lines of the UIDs added since the file was read or
// written, when nothing was removed, and the file is still the one this
// process read or wrote (statefile.AppendSync: same file, size and change
// time, the user's own, not a link): write, fsync. Otherwise it writes
// the whole file to a new file of an unpredictable name beside it
// ("<idfile>_" and random characters), fsyncs it, renames it over the
// idfile and fsyncs the directory; an empty store deletes the file, as
// fetchmail does. A poll that adds 10 UIDs to 100,000 kept ones appends
// 10 lines instead of rewriting 100,010.
//
// An append cut short (a kill, a full disk) may leave a last line without
// its newline: reading ignores such a line (its UID was not recorded, its
// message is fetched again), and a store read from a file that ends so,
// or with the first parts of an encoded UID and not its last, is
// rewritten whole at its next Save, never appended to.
type UIDStore struct {
	mu    sync.Mutex
	path  string
	order []string            // account keys in file order
	uids  map[string]*uidList // lower-cased key -> UIDs
	keys  map[string]string   // lower-cased key -> key as written
	dirty bool
	// version is the idfile as this store last read or wrote it; added
	// holds the UIDs added since (lower-cased key and UID), which Save
	// appends, unless rewrite is set: a UID was removed, the file's end
	// was torn, or an append failed.
	version statefile.Version
	added   []addedUID
	rewrite bool
	// indexed is closed once the file's lines are parsed and the lists
	// read from them have their sets (and duplicates removed):
	// LoadUIDStore does that in the background, while the poll connects
	// and logs in. Every method waits for it, with mu held, before it
	// touches a list (or order, keys, dirty, rewrite).
	indexed chan struct{}
	// book holds the delivery dates of the accounts with keepdays
	// (dates.go), kept beside the idfile.
	book dateBook
}

type addedUID struct{ lk, uid string }

type uidList struct {
	order []string
	set   map[string]struct{}
}

func (l *uidList) add(uid string) bool {
	if _, ok := l.set[uid]; ok {
		return false
	}
	l.set[uid] = struct{}{}
	l.order = append(l.order, uid)
	return true
}

// index builds the set of a list read from the file and drops repeated
// UIDs from its order.
func (l *uidList) index() {
	l.set = make(map[string]struct{}, len(l.order))
	kept := l.order[:0]
	for _, u := range l.order {
		// One hash operation a UID: the set grew if u was new.
		n := len(l.set)
		l.set[u] = struct{}{}
		if len(l.set) > n {
			kept = append(kept, u)
		}
	}
	l.order = kept
}

// wait returns once the lists read from the file are indexed; s.mu is held.
func (s *UIDStore) wait() {
	if s.indexed != nil {
		<-s.indexed
	}
}

// ValidUID reports whether uid can be recorded in the idfile: any
// non-empty UID up to MaxUIDLen octets, written as it is or encoded (see
// idfile_codec.go).
func ValidUID(uid string) bool {
	return uid != "" && len(uid) <= MaxUIDLen
}

// LoadUIDStore reads the idfile at path. A missing file is an empty store.
// An idfile another user could have written (statefile.ReadFile: a link,
// another user's file, a group- or world-writable one) is refused: its
// UIDs would make messages count as delivered, and be deleted, that never
// were; and treating it as empty would deliver every kept message again.
func LoadUIDStore(path string) (*UIDStore, error) {
	data, version, err := statefile.ReadFileVersion(path)
	if statefile.IsUntrusted(err) {
		return nil, fmt.Errorf("idfile %w; not polling with it: remove it if you did not make it, or give gofetchmail an idfile in a directory only you can write (set idfile, -i)", err)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("idfile: %w", err)
	}
	s, err := parseUIDStore(data)
	if err != nil {
		return nil, fmt.Errorf("idfile %s: %w", path, err)
	}
	s.path = path
	s.version = version
	return s, nil
}

// parseUIDStore reads idfile contents; lines it cannot parse are dropped.
// The parsing, and the sets of the lists, are done by a goroutine it
// starts (see indexed): a poll of 100,000 kept messages connects, logs in
// and waits for the server's STAT meanwhile.
func parseUIDStore(data []byte) (*UIDStore, error) {
	s := &UIDStore{uids: map[string]*uidList{}, keys: map[string]string{}}
	if len(data) == 0 {
		return s, nil
	}
	s.indexed = make(chan struct{})
	go func() {
		s.parse(data)
		for _, lk := range s.order {
			s.uids[lk].index()
		}
		close(s.indexed)
	}()
	return s, nil
}

// parse fills a new store with the lines of data.
func (s *UIDStore) parse(data []byte) {
	// One string for the whole file: every key and UID is a substring of
	// it, so a file of 100,000 lines costs no allocation per line.
	text := string(data)
	lines := strings.Count(text, "\n") + 1
	var first, last *uidList
	lastKey := ""
	var dec uidDecoder
	for len(text) > 0 {
		nl := strings.IndexByte(text, '\n')
		if nl < 0 {
			// A last line without its newline is an append that was
			// cut short: its UID was never recorded (and might read
			// as a shorter one that was not delivered). Ignored, and
			// the file rewritten at the next Save.
			s.rewrite, s.dirty = true, true
			break
		}
		line := text[:nl]
		text = text[nl+1:]
		key, uid, ok := parseIDLine(line)
		if !ok {
			continue
		}
		if uid, ok = dec.line(key, uid); !ok {
			continue // a part of an encoded UID, or one that does not decode
		}
		if key != lastKey {
			// Lines of one account come together: look its list up
			// only when the key changes.
			last, lastKey = s.list(key), key
		}
		l := last
		if first == nil {
			// Most idfiles hold one account: size the first one's
			// list for the whole file.
			first = l
			l.order = make([]string, 0, lines)
		}
		l.order = append(l.order, uid)
	}
	if dec.pending() {
		// The file ends with parts of an encoded UID and not its last:
		// lines appended after them would be read as its end.
		s.rewrite, s.dirty = true, true
	}
}

// parseIDLine splits "user@host UID" as fetchmail's uid.c does: the key
// ends at the first blank after the first '@'; the UID is the next word.
func parseIDLine(line string) (key, uid string, ok bool) {
	at := strings.IndexByte(line, '@')
	if at < 0 {
		return "", "", false
	}
	i := at
	for i < len(line) && line[i] != ' ' && line[i] != '\t' {
		i++
	}
	if i == len(line) {
		return "", "", false
	}
	key = line[:i]
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	j := i
	for j < len(line) && line[j] != ' ' && line[j] != '\t' && line[j] != '\r' {
		j++
	}
	if j == i {
		return "", "", false
	}
	return key, line[i:j], true
}

// AccountKey is the idfile key of a user entry: remotename@queryname, where
// queryname is the via name if set, else the poll name.
func AccountKey(remotename, queryname string) string {
	return remotename + "@" + queryname
}

func (s *UIDStore) list(key string) *uidList {
	lk := strings.ToLower(key)
	l, ok := s.uids[lk]
	if !ok {
		l = &uidList{set: map[string]struct{}{}} // parseUIDStore's lists get theirs from index
		s.uids[lk] = l
		s.keys[lk] = key
		s.order = append(s.order, lk)
	}
	return l
}

// Path is the idfile's path.
func (s *UIDStore) Path() string { return s.path }

// Seen returns the set of UIDs remembered for an account. The map is a copy.
func (s *UIDStore) Seen(key string) map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wait()
	l, ok := s.uids[strings.ToLower(key)]
	if !ok {
		return map[string]bool{}
	}
	out := make(map[string]bool, len(l.set))
	for u := range l.set {
		out[u] = true
	}
	return out
}

// Has reports whether uid is remembered for an account, without copying
// the account's set (a kept mailbox may hold 100,000 of them).
func (s *UIDStore) Has(key, uid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wait()
	l, ok := s.uids[strings.ToLower(key)]
	if !ok {
		return false
	}
	_, ok = l.set[uid]
	return ok
}

// Lookup reports for each of uids (a server's listing, in its order;
// empty strings are never remembered) whether it is remembered for key, and
// whether every UID remembered for key is among them. It is Has for a
// whole listing: the idfile keeps UIDs in the order they were recorded,
// which for a mailbox kept on the server is the server's order, so most
// UIDs are matched by walking both lists side by side, in cache order,
// and only the others are looked up in the set.
func (s *UIDStore) Lookup(key string, uids []string) (seen []bool, all bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wait()
	seen = make([]bool, len(uids))
	l, ok := s.uids[strings.ToLower(key)]
	if !ok {
		return seen, true
	}
	next, found := 0, 0 // next: position in l.order the walk expects
	for i, u := range uids {
		if u == "" {
			continue
		}
		if next < len(l.order) && l.order[next] == u {
			seen[i] = true
			next++
			found++
			continue
		}
		if _, ok := l.set[u]; ok {
			seen[i] = true
			found++
		}
	}
	return seen, found == len(l.set)
}

// Len is how many UIDs are remembered for an account.
func (s *UIDStore) Len(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wait()
	if l, ok := s.uids[strings.ToLower(key)]; ok {
		return len(l.set)
	}
	return 0
}

// Add remembers UIDs for an account. Invalid UIDs are ignored.
func (s *UIDStore) Add(key string, uids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wait()
	l := s.list(key)
	lk := strings.ToLower(key)
	var added []string
	for _, u := range uids {
		if ValidUID(u) && l.add(u) {
			s.dirty = true
			added = append(added, u)
			s.added = append(s.added, addedUID{lk, u})
		}
	}
	s.dateNew(lk, added)
}

// Remove forgets UIDs of an account.
func (s *UIDStore) Remove(key string, uids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wait()
	l, ok := s.uids[strings.ToLower(key)]
	if !ok {
		return
	}
	n := 0
	for _, u := range uids {
		if _, ok := l.set[u]; ok {
			delete(l.set, u)
			n++
		}
	}
	if n == 0 {
		return
	}
	s.forgetDates(strings.ToLower(key), uids)
	kept := l.order[:0]
	for _, u := range l.order {
		if _, ok := l.set[u]; ok {
			kept = append(kept, u)
		}
	}
	l.order = kept
	s.dirty = true
	s.rewrite = true // lines to take out: only a rewrite does that
}

// Retain forgets every UID of an account that is not in present (the UIDs
// the server listed): messages expunged by someone else.
func (s *UIDStore) Retain(key string, present map[string]bool) {
	s.RetainFunc(key, func(uid string) bool { return present[uid] })
}

// RetainFunc is Retain with a predicate: it forgets the UIDs of key for
// which present returns false.
func (s *UIDStore) RetainFunc(key string, present func(uid string) bool) {
	s.mu.Lock()
	s.wait()
	l, ok := s.uids[strings.ToLower(key)]
	var gone []string
	if ok {
		for _, u := range l.order {
			if !present(u) {
				gone = append(gone, u)
			}
		}
	}
	s.mu.Unlock()
	if len(gone) > 0 {
		s.Remove(key, gone...)
	}
}

// Save writes the store durably if it changed since the last Save: the
// idfile, then the delivery dates (dates.go) if they changed.
func (s *UIDStore) Save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wait()
	if s.dirty {
		if err := s.write(); err != nil {
			return fmt.Errorf("idfile: %w", err)
		}
		s.dirty, s.rewrite, s.added = false, false, s.added[:0]
	}
	return s.saveDates()
}

// write appends the added UIDs' lines to the idfile when it can, and
// rewrites it whole otherwise (see UIDStore).
func (s *UIDStore) write() error {
	if !s.rewrite && len(s.added) > 0 {
		var buf bytes.Buffer
		for _, a := range s.added {
			writeIDLines(&buf, s.keys[a.lk], a.uid)
		}
		v, err := statefile.AppendSync(s.path, s.version, buf.Bytes())
		if err == nil {
			s.version = v
			return nil
		}
		if !errors.Is(err, statefile.ErrChanged) {
			// Part of the lines may be in the file, maybe without
			// their last newline: never append after them.
			s.rewrite, s.version = true, statefile.Version{}
			return err
		}
		// Replaced, grown or cut by someone else since it was read, or
		// no longer a file of ours: rewritten whole, as always before.
	}
	v, err := statefile.WriteFileVersion(s.path, s.encode())
	if err != nil {
		s.version = statefile.Version{}
		return err
	}
	s.version = v
	return nil
}

// encode renders the store in fetchmail's idfile format.
func (s *UIDStore) encode() []byte {
	s.wait()
	size := 0
	for _, lk := range s.order {
		for _, u := range s.uids[lk].order {
			size += len(s.keys[lk]) + len(u) + 2
		}
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	for _, lk := range s.order {
		l := s.uids[lk]
		for _, u := range l.order {
			writeIDLines(buf, s.keys[lk], u)
		}
	}
	return buf.Bytes()
}

func syncDir(dir string) error { return statefile.SyncDir(dir) }

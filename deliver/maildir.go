package deliver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-maildir"
)

// MaildirOptions tune a Maildir. The zero value (or nil) means group commit
// with 16 parallel fsyncs.
type MaildirOptions struct {
	// NoBatch makes every Commit fully durable by itself (write, fsync
	// file, rename into new/, fsync new/); Sync is then a no-op.
	NoBatch bool
	// Parallel bounds the number of file fsyncs in flight in batch mode
	// (default 16).
	Parallel int
}

// Maildir delivers into a Maildir directory. It implements Deliverer and
// Batcher and is safe for concurrent use.
//
// Without NoBatch the contract is:
//   - Commit flushes the message into its file in tmp/; it returns nil when
//     the bytes were written. Nothing is in new/ yet. The file's fsync runs
//     in the background, started by Prepare (or once many files wait), at
//     most Parallel at once.
//   - Sync waits for every started fsync, renames each committed file from
//     tmp/ into new/, and fsyncs new/ once. When it returns nil every message
//     committed before the call is durable and visible in new/.
//   - If any fsync failed, Sync removes all files of the batch from tmp/ and
//     returns the error: none of those messages is delivered. If a rename or
//     the fsync of new/ fails, Sync returns the error; messages already
//     renamed stay in new/ (a later poll may deliver them again).
//   - Close discards committed messages that were never synced.
//   - Prepare and Recover split Sync for a caller that journals (Stager).
type Maildir struct {
	dir   maildir.Dir
	opts  MaildirOptions
	sem   chan struct{} // bounds fsyncs in flight
	mu    sync.Mutex
	batch []*maildirTx // committed, fsync started or deferred
	// deferred are the files of batch whose fsync has not started.
	deferred      []*maildirTx
	deferredBytes int64        // bytes written to the deferred files
	ready         []*maildirTx // prepared: durable in tmp/, not yet in new/
	// syncfs makes the deferred files of a batch durable at once (see
	// flushDeferred); nil where the file system does not allow it.
	syncfs func(*os.File) error
	dirty  func() int64 // othersDirty; tests replace it
	choice syncChooser  // syncfs or fsyncs, by what each cost so far
	// way is how the open batch is made durable (viaFsync, viaSyncfs),
	// chosen when its first file was committed (pickWay); chosen says
	// whether it was, measured whether m.choice chose it (and so learns
	// what it cost) rather than pickWay's rules.
	way      int
	chosen   bool
	measured bool
	opened   uint64 // Begin's count, to find a batch's first file
}

// NewMaildir opens the Maildir at path, creating path and its tmp, new and
// cur subdirectories (mode 0700) when missing, like mkdir -p.
func NewMaildir(path string, opts *MaildirOptions) (*Maildir, error) {
	m := &Maildir{dir: maildir.Dir(path)}
	if opts != nil {
		m.opts = *opts
	}
	if m.opts.Parallel <= 0 {
		m.opts.Parallel = 16
	}
	m.sem = make(chan struct{}, m.opts.Parallel)
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("maildir %s: %w", path, err)
	}
	if err := m.dir.Init(); err != nil {
		return nil, fmt.Errorf("maildir %s: %w", path, err)
	}
	// Make the subdirectories' names durable before any message relies
	// on them.
	if err := syncDir(path); err != nil {
		return nil, fmt.Errorf("maildir %s: %w", path, err)
	}
	for _, sub := range []string{"tmp", "new", "cur"} {
		fi, err := os.Stat(filepath.Join(path, sub))
		if err != nil {
			return nil, fmt.Errorf("maildir %s: %w", path, err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("maildir %s: %s is not a directory", path, sub)
		}
	}
	if maildirSync != "fsync" && syncfsUsable(filepath.Join(path, "tmp")) {
		m.syncfs = syncfs
	}
	m.dirty = othersDirty
	return m, nil
}

// String returns "maildir PATH".
func (m *Maildir) String() string { return "maildir " + string(m.dir) }

// Begin creates a new, uniquely named file in tmp/.
func (m *Maildir) Begin(ctx context.Context, env Envelope) (Tx, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var (
		f   *os.File
		key string
		err error
	)
	for range 3 { // a collision needs the same pid, counter and 64 random bits
		key, err = newKey()
		if err != nil {
			return nil, fmt.Errorf("maildir %s: %w", m.dir, err)
		}
		f, err = createExcl(m.path("tmp", key), 0o600)
		if !errors.Is(err, os.ErrExist) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("maildir %s: create: %w", m.dir, err)
	}
	m.mu.Lock()
	m.opened++
	seq := m.opened
	m.mu.Unlock()
	return &maildirTx{m: m, key: key, f: f, w: getWriter(f), seq: seq}, nil
}

// Prepare waits for the fsyncs of every message committed since the last
// Sync: when it returns nil they are durable in tmp/, not yet visible. If an
// fsync failed, every staged file is removed and none of those messages is
// delivered.
func (m *Maildir) Prepare() error {
	start := time.Now()
	way, files := m.flushDeferred()
	m.mu.Lock()
	batch := m.batch
	m.batch = nil
	m.mu.Unlock()
	var syncErr error
	for _, tx := range batch {
		if err := <-tx.synced; err != nil && syncErr == nil {
			syncErr = err
		}
	}
	if syncErr == nil && files > 0 {
		m.mu.Lock()
		m.choice.record(way, files, time.Since(start))
		m.mu.Unlock()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if syncErr != nil {
		for _, tx := range append(m.ready, batch...) {
			os.Remove(tx.tmpPath())
		}
		m.ready = nil
		return syncErr
	}
	m.ready = append(m.ready, batch...)
	return nil
}

// Sync makes every committed message durable and moves it into new/. See the
// type's documentation for the exact contract.
func (m *Maildir) Sync() error {
	if err := m.Prepare(); err != nil {
		return err
	}
	m.mu.Lock()
	ready := m.ready
	m.ready = nil
	m.mu.Unlock()
	if len(ready) == 0 {
		return nil
	}
	for i, tx := range ready {
		if err := renameFile(tx.tmpPath(), tx.newPath()); err != nil {
			for _, rest := range ready[i:] {
				os.Remove(rest.tmpPath())
			}
			return fmt.Errorf("maildir %s: rename into new/: %w", m.dir, err)
		}
	}
	return m.syncDir("new")
}

// Recover publishes, after a crash, the staged messages named by keys: a
// key still in tmp/ is moved into new/. It reports as delivered every key
// now in new/ or in cur/ (where a mail reader may have moved it, with
// ":2,flags" appended).
func (m *Maildir) Recover(keys []string) (map[string]bool, error) {
	delivered := map[string]bool{}
	moved := false
	var cur map[string]bool // base names in cur/, read when first needed
	for _, key := range keys {
		if key == "" || key == "." || key == ".." || strings.ContainsAny(key, "/:") {
			continue
		}
		err := os.Rename(m.path("tmp", key), m.path("new", key))
		switch {
		case err == nil:
			moved = true
			delivered[key] = true
			continue
		case !errors.Is(err, os.ErrNotExist):
			return delivered, fmt.Errorf("maildir %s: recover %s: %w", m.dir, key, err)
		}
		if _, err := os.Stat(m.path("new", key)); err == nil {
			delivered[key] = true
			continue
		}
		if cur == nil {
			names, err := os.ReadDir(filepath.Join(string(m.dir), "cur"))
			if err != nil {
				return delivered, fmt.Errorf("maildir %s: %w", m.dir, err)
			}
			cur = map[string]bool{}
			for _, e := range names {
				base, _, _ := strings.Cut(e.Name(), ":")
				cur[base] = true
			}
		}
		if cur[key] {
			delivered[key] = true
		}
	}
	if moved {
		if err := m.syncDir("new"); err != nil {
			return nil, err
		}
	}
	return delivered, nil
}

// Path is the maildir's directory.
func (m *Maildir) Path() string { return string(m.dir) }

// Close waits for background fsyncs and removes the files of messages that
// were committed but never synced.
func (m *Maildir) Close() error {
	m.startFsyncs() // which also closes the files
	m.mu.Lock()
	batch, ready := m.batch, m.ready
	m.batch, m.ready = nil, nil
	m.mu.Unlock()
	for _, tx := range batch {
		<-tx.synced
	}
	for _, tx := range append(ready, batch...) {
		os.Remove(tx.tmpPath())
	}
	return nil
}

func (m *Maildir) path(sub, key string) string {
	return filepath.Join(string(m.dir), sub, key)
}

// syncDir fsyncs the subdirectory sub so that renames into it are durable.
func (m *Maildir) syncDir(sub string) error {
	if err := syncDir(filepath.Join(string(m.dir), sub)); err != nil {
		return fmt.Errorf("maildir %s: %w", m.dir, err)
	}
	return nil
}

// maxDeferred and maxDeferredBytes bound the committed files whose fsync
// has not started yet (and so the files held open, and the dirty data
// waiting): beyond either, enqueue starts their fsyncs. Large messages are
// thus synced while the next ones stream in; small ones wait for Prepare.
const (
	maxDeferred      = 128
	maxDeferredBytes = 1 << 20
)

// deferFsync delays the fsyncs of a batch until Prepare. On ext4 an fsync
// of a new file commits the journal, and creating the next file waits for
// that commit: fsyncs overlapping the stream of creates slowed each create
// tenfold, whereas one burst of parallel fsyncs per batch shares a few
// journal commits. Tests and benchmarks switch it.
var deferFsync = true

// enqueue adds a committed file to the batch. Its fsync starts in Prepare,
// or at once when deferFsync is off or too much is waiting.
func (m *Maildir) enqueue(tx *maildirTx) {
	tx.synced = make(chan error, 1)
	m.mu.Lock()
	if !m.chosen {
		m.way, m.measured = m.pickWay()
		m.chosen = true
	}
	m.batch = append(m.batch, tx)
	m.deferred = append(m.deferred, tx)
	m.deferredBytes += tx.n
	start := !deferFsync || len(m.deferred) >= maxDeferred || m.deferredBytes >= maxDeferredBytes
	m.mu.Unlock()
	if start {
		m.startFsyncs()
	}
}

// startFsyncs makes every deferred file durable in the background, the way
// the open batch takes: one syncfs for all of them, or their fsyncs, at
// most Parallel at once. It does not wait for a free fsync slot: the
// writer goes on with the next message meanwhile (each file reports on its
// synced channel).
func (m *Maildir) startFsyncs() {
	m.mu.Lock()
	txs := m.deferred
	m.deferred, m.deferredBytes = nil, 0
	way := m.way
	m.mu.Unlock()
	if len(txs) == 0 {
		return
	}
	if way == viaSyncfs && len(txs) >= 3 {
		go m.syncfsAll(txs)
		return
	}
	go m.fsyncAll(txs)
}

// pickWay chooses how the batch now opening is made durable: fsyncs where
// syncfs is not usable or would write out much of other programs' data
// (dirtyLimit), else what m.choice says is cheaper (measured). Called
// with m.mu held.
func (m *Maildir) pickWay() (way int, measured bool) {
	if m.syncfs == nil {
		return viaFsync, false
	}
	if d := m.dirty(); d < 0 || d > dirtyLimit {
		return viaFsync, false
	}
	return m.choice.pick(), true
}

// maildirSync, set at link time to "fsync"
// (-ldflags=-X=github.com/gofetchmail/gofetchmail/deliver.maildirSync=fsync),
// turns syncfs off, so that scripts/bench can time both strategies in one
// build's run.
var maildirSync string

// flushDeferred makes the deferred files of the batch durable at its end,
// and tells which way (viaSyncfs or viaFsync) it took for how many files
// (0: no choice was measured). Where the maildir's file system allows it
// (syncfsUsable), one syncfs(2) can do that for all of them: on a quiet
// ext4 it writes them out and commits the journal once, where 64 fsyncs,
// even in parallel, cost several commits; but a syncfs also writes out,
// and waits for, every other writer's data on the file system, so on a
// busy one it costs more than the fsyncs (docs/performance.md has the
// figures). m.choice therefore tries both and takes the one that cost less
// per file in this poll; the way is chosen when a batch's first file is
// committed (pickWay), so that the files a large batch makes durable
// early (maxDeferred) go the same way. Fewer than three files, or more than
// dirtyLimit of dirty data on the machine, are fsync'd without asking.
// A syncfs is given the batch's first opened file: since Linux 5.8 it
// reports any writeback error of the file system since that file was
// opened, and so any of the batch's.
func (m *Maildir) flushDeferred() (way, files int) {
	m.mu.Lock()
	txs := m.deferred
	m.deferred, m.deferredBytes = nil, 0
	way, measured := m.way, m.measured
	m.chosen = false
	m.mu.Unlock()
	return m.flush(txs, way, measured)
}

// flush is flushDeferred for the files txs of a batch that takes way (a
// sealed batch's, Seal); files is 0 unless m.choice chose the way
// (measured) and it was taken as chosen.
func (m *Maildir) flush(txs []*maildirTx, way int, measured bool) (taken, files int) {
	if way != viaSyncfs || len(txs) < 3 {
		m.fsyncAll(txs)
		if way != viaFsync || len(txs) < 3 || !measured {
			return viaFsync, 0
		}
		return viaFsync, len(txs)
	}
	m.syncfsAll(txs)
	if !measured {
		return viaSyncfs, 0
	}
	return viaSyncfs, len(txs)
}

// syncfsAll makes txs durable with one syncfs on the first of them to be
// opened, then closes them and reports to each.
func (m *Maildir) syncfsAll(txs []*maildirTx) {
	first := txs[0]
	for _, tx := range txs {
		if tx.seq < first.seq {
			first = tx
		}
	}
	err := m.syncfs(first.f)
	for _, tx := range txs {
		cerr := tx.f.Close()
		if err != nil {
			tx.synced <- fmt.Errorf("maildir %s: %w", m.dir, err)
			continue
		}
		if cerr != nil {
			cerr = fmt.Errorf("maildir %s: close %s: %w", m.dir, tx.tmpPath(), cerr)
		}
		tx.synced <- cerr
	}
}

// fsyncAll starts the fsyncs of txs, at most Parallel at once; it returns
// when the last one has started.
func (m *Maildir) fsyncAll(txs []*maildirTx) {
	for _, tx := range txs {
		m.sem <- struct{}{}
		go func() {
			defer func() { <-m.sem }()
			tx.synced <- tx.syncClose()
		}()
	}
}

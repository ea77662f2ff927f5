package imap

import (
	"errors"
	"io"
	"math"
	"sync/atomic"
)

// maxSearchBytes bounds what the server may send while a UID SEARCH is
// answered: MaxSearchResults UIDs of ten digits and a blank each (46 MB),
// with room for the untagged data a server may interleave. go-imap builds
// the whole answer in memory before Search can count it (about twice its
// size on the wire for scattered UIDs), so without this bound a server
// sending an endless "* SEARCH 1 3 5 ..." would take memory for as long as
// the command's timeout lets it.
const maxSearchBytes = 64 << 20

// errBudget is what the connection reports to imapclient once a command's
// answer has passed its budget: the session is then unusable.
var errBudget = errors.New("the server's answer is longer than the command allows")

// budgetReader passes r's bytes through while a budget, when one is set,
// lasts; reads past it fail with errBudget. imapclient reads from it in
// its own goroutine: the budget is atomic.
type budgetReader struct {
	r    io.Reader
	left atomic.Int64 // bytes still allowed; math.MaxInt64 when no budget is set
	over atomic.Bool  // the budget was passed
}

func newBudgetReader(r io.Reader) *budgetReader {
	b := &budgetReader{r: r}
	b.left.Store(math.MaxInt64)
	return b
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.over.Load() {
		return 0, errBudget
	}
	n, err := b.r.Read(p)
	if b.left.Load() != math.MaxInt64 && b.left.Add(-int64(n)) < 0 {
		b.over.Store(true)
		return 0, errBudget
	}
	return n, err
}

// limit sets a budget of n bytes from now on.
func (b *budgetReader) limit(n int64) { b.left.Store(n) }

// unlimit removes the budget and reports whether it was passed.
func (b *budgetReader) unlimit() (passed bool) {
	b.left.Store(math.MaxInt64)
	return b.over.Load()
}

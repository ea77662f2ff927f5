package deliver

import (
	"errors"
	"io"
)

var errTxDone = errors.New("deliver: transaction already finished")

// txState is what the Write of every transaction shares: nothing is
// written after Commit or Abort (done), and the first write error is kept
// and returned by every later call.
type txState struct {
	err  error // sticky write error
	done bool  // committed or aborted
}

// write writes p to w unless the transaction ended or already failed; a
// write error, wrapped by wrap, becomes the transaction's error.
func (t *txState) write(w io.Writer, p []byte, wrap func(error) error) (int, error) {
	if t.done {
		return 0, errTxDone
	}
	if t.err != nil {
		return 0, t.err
	}
	n, err := w.Write(p)
	if err != nil {
		t.err = wrap(err)
	}
	return n, t.err
}

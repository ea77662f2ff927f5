package deliver

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// failingWriter fails every write after the first n bytes.
type failingWriter struct {
	buf bytes.Buffer
	n   int
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.buf.Len()+len(p) > w.n {
		return 0, errors.New("disk full")
	}
	return w.buf.Write(p)
}

func TestTxStateWrite(t *testing.T) {
	var st txState
	w := &failingWriter{n: 4}
	wrap := func(err error) error { return fmt.Errorf("target: %w", err) }
	if n, err := st.write(w, []byte("abc"), wrap); n != 3 || err != nil {
		t.Fatalf("first write: %d, %v", n, err)
	}
	_, err := st.write(w, []byte("def"), wrap)
	if err == nil || err.Error() != "target: disk full" {
		t.Fatalf("failing write: %v, want the wrapped error", err)
	}
	// The error sticks even though the writer would now take one byte.
	if n, err2 := st.write(w, []byte("g"), wrap); n != 0 || err2 != err {
		t.Errorf("write after a failure: %d, %v; want 0 and the first error", n, err2)
	}
	st = txState{done: true}
	if _, err := st.write(w, []byte("x"), wrap); !errors.Is(err, errTxDone) {
		t.Errorf("write after the end: %v, want errTxDone", err)
	}
	if w.buf.String() != "abc" {
		t.Errorf("writer holds %q, want abc", w.buf.String())
	}
}

package deliver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// ErrForeignData is returned by RecoverMbox when the mbox holds, after an
// interrupted batch, messages another program appended since: cutting the
// batch off would cut them off too, so the mbox is left as it is.
var ErrForeignData = errors.New("another program appended to the mbox after the interrupted batch; left as it is")

// RecoverMbox undoes a batch that a killed run left in the mbox at path:
// the batch began at offset start, and its messages committed before the
// kill end at lastEnd (start when none did); after lastEnd there may be
// part of one more message. The caller knows that none of the batch was
// recorded as fetched, so the server still has every message of it: the
// mbox is truncated back to start (and fsync'd), under the usual locks, and
// RecoverMbox returns how many bytes it removed. It removes nothing when
// the file is no longer than start, and nothing, with ErrForeignData, when
// something after lastEnd is not the batch's own partial message (another
// program's message, recognised by its From line: the batch's own message
// bodies are mboxrd-quoted and hold none; see foreignAfter).
func RecoverMbox(ctx context.Context, path string, start, lastEnd int64, opts *MboxOptions) (int64, error) {
	m, err := NewMbox(path, opts)
	if err != nil {
		return 0, err
	}
	b, err := m.lock(ctx, time.Now().Add(m.opts.LockTimeout))
	if err != nil {
		return 0, err
	}
	defer b.unlock(m)
	size := b.start
	if size <= start {
		return 0, nil
	}
	if lastEnd < start || lastEnd > size {
		return 0, fmt.Errorf("mbox %s: the journal's offsets (%d, %d) do not fit the file (%d bytes): %w", path, start, lastEnd, size, ErrForeignData)
	}
	// The batch began at a message boundary with its own From line; a
	// file rewritten since (a mail reader expunging) no longer has them
	// there, and is not cut.
	if ok, err := batchStartsAt(b.f, start, size); err != nil || !ok {
		if err == nil {
			err = ErrForeignData
		}
		return 0, fmt.Errorf("mbox %s: %w", path, err)
	}
	foreign, err := foreignAfter(io.NewSectionReader(b.f, lastEnd, size-lastEnd))
	if err != nil {
		return 0, fmt.Errorf("mbox %s: %w", path, err)
	}
	if foreign {
		return 0, fmt.Errorf("mbox %s: %w", path, ErrForeignData)
	}
	if err := b.f.Truncate(start); err != nil {
		return 0, fmt.Errorf("mbox %s: truncate back to %d: %w", path, start, err)
	}
	if err := m.fsync(b.f); err != nil {
		return 0, fmt.Errorf("mbox %s: fsync: %w", path, err)
	}
	return size - start, nil
}

// batchStartsAt reports whether offset start of f (size bytes) is a line
// start followed by optional blank lines and a From line.
func batchStartsAt(f io.ReaderAt, start, size int64) (bool, error) {
	from := max(start-1, 0)
	buf := make([]byte, min(size-from, 4096))
	n, err := f.ReadAt(buf, from)
	if err != nil && err != io.EOF {
		return false, err
	}
	buf = buf[:n]
	if start > 0 {
		if len(buf) == 0 || buf[0] != '\n' {
			return false, nil
		}
		buf = buf[1:]
	}
	buf = bytes.TrimLeft(buf, "\n")
	return bytes.HasPrefix([]byte("From "), buf) || bytes.HasPrefix(buf, []byte("From ")), nil
}

// foreignAfter reports whether r, the tail of an mbox from the end of the
// last whole message of a batch, holds anything but the batch's own
// partial message: blank lines, its From line, and mboxrd-quoted text in
// which no line begins with "From ".
func foreignAfter(r io.Reader) (bool, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		b, err := br.ReadByte()
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if b != '\n' {
			br.UnreadByte()
			break
		}
	}
	head, err := br.Peek(5)
	if err != nil && err != io.EOF {
		return false, err
	}
	if !bytes.HasPrefix([]byte("From "), head) {
		return true, nil // not the start of the batch's message
	}
	atStart := false // the batch's own From line is not counted
	for {
		line, err := br.ReadSlice('\n')
		if atStart && bytes.HasPrefix(line, []byte("From ")) {
			return true, nil
		}
		switch {
		case err == nil:
			atStart = true
		case errors.Is(err, bufio.ErrBufferFull):
			atStart = false
		case err == io.EOF:
			return false, nil
		default:
			return false, err
		}
	}
}

package deliver

import (
	"bufio"
	"io"
	"sync"
)

// writerPool recycles the 64 KiB write buffers of finished transactions.
var writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}

func getWriter(w io.Writer) *bufio.Writer {
	bw := writerPool.Get().(*bufio.Writer)
	bw.Reset(w)
	return bw
}

// putWriter returns bw to the pool; the caller must not use it again.
func putWriter(bw *bufio.Writer) {
	if bw != nil {
		bw.Reset(nil)
		writerPool.Put(bw)
	}
}

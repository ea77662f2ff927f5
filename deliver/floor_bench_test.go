package deliver

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/internal/fsfloor"
)

// BenchmarkVsDiskFloor holds the delivery side of the target
// "2000 x 4 KB durable into a maildir and into an mbox: at most 1.5x the
// limit": each iteration delivers 2000 messages of 4 KiB in batches of 64
// (Begin, Write, Commit, Sync per batch, as a poll does) and, beside it,
// runs the disk floor (internal/fsfloor: the same files made durable with
// raw system calls, syncfs per batch for a maildir, one fsync for an mbox).
// It reports x-disk-floor, the delivery's time over the floor's; the
// network side is scripts/bench's.
func BenchmarkVsDiskFloor(b *testing.B) {
	const n, size = 2000, 4096
	body := fsfloor.Body(size)
	for _, kind := range []string{"maildir", "maildir-fsync", "mbox"} {
		b.Run(kind, func(b *testing.B) {
			var took, floor time.Duration
			i := 0
			for b.Loop() {
				i++
				dir := b.TempDir()
				dest := filepath.Join(dir, fmt.Sprintf("%s-%d", kind, i))
				start := time.Now()
				deliverBatches(b, kind, dest, n, body)
				took += time.Since(start)
				var f time.Duration
				var err error
				if kind == "mbox" {
					f, err = fsfloor.Mbox(dest+".floor", n, body)
				} else {
					f, err = fsfloor.Maildir(dest+".floor", n, body, "syncfs-batch")
				}
				if err != nil {
					b.Fatal(err)
				}
				floor += f
			}
			b.ReportMetric(float64(took)/float64(floor), "x-disk-floor")
			b.ReportMetric(float64(took.Microseconds())/float64(i*n), "us/msg")
		})
	}
}

func deliverBatches(b *testing.B, kind, dest string, n int, body []byte) {
	b.Helper()
	var d interface {
		Deliverer
		Sync() error
	}
	switch kind {
	case "mbox":
		m, err := NewMbox(dest, nil)
		if err != nil {
			b.Fatal(err)
		}
		d = m
	default:
		m, err := NewMaildir(dest, nil)
		if err != nil {
			b.Fatal(err)
		}
		if kind == "maildir-fsync" {
			m.syncfs = nil
		}
		d = m
	}
	defer d.Close()
	for i := range n {
		benchDeliver(b, d, body)
		if i%64 == 63 {
			if err := d.Sync(); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := d.Sync(); err != nil {
		b.Fatal(err)
	}
}

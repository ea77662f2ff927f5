// Package fsfloor measures the disk side of the physical limit of a mail
// retriever: what durable local delivery of n messages of one size costs on
// a file system, with no network and no parsing, through raw system calls
// (so that it measures the file system, not the Go runtime). It serves the
// fsfloor command (internal/cmd/fsfloor, run by scripts/bench beside the
// clients) and deliver's benchmarks, which report their time as a multiple
// of it. It began as ../shared/bench/fsfloor.go.
package fsfloor

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Strategies are the ways Maildir can make a batch durable. Every one
// works in batches of 64 files (gofetchmail's), ends each batch with its
// renames from tmp/ into new/ and one fsync of new/:
//
//	parallel-fsync  the batch's files fsync'd at its end, 16 at once
//	serial-fsync    each file fsync'd as soon as it is written (mpop's way)
//	syncfs-batch    one syncfs(2) at the end of each batch
//	wb-syncfs       writeback started per file (sync_file_range), one syncfs(2) per batch
//	syncfs-once     all files in one batch, one syncfs(2)
var Strategies = []string{"parallel-fsync", "serial-fsync", "syncfs-batch", "wb-syncfs", "syncfs-once"}

// Body returns size bytes of text in lines of 76 characters.
func Body(size int) []byte {
	body := make([]byte, size)
	for i := range body {
		body[i] = 'a' + byte(i%26)
		if i%76 == 75 {
			body[i] = '\n'
		}
	}
	return body
}

// Maildir makes n files holding body durable in the maildir base (created
// when missing) with strategy, and returns the time it took.
func Maildir(base string, n int, body []byte, strategy string) (time.Duration, error) {
	known := false
	for _, s := range Strategies {
		known = known || s == strategy
	}
	if !known {
		return 0, fmt.Errorf("unknown strategy %q", strategy)
	}
	for _, d := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o700); err != nil {
			return 0, err
		}
	}
	start := time.Now()
	batch := 64
	if strategy == "syncfs-once" {
		batch = n
	}
	tmp, nw := filepath.Join(base, "tmp"), filepath.Join(base, "new")
	for b := 0; b*batch < n; b++ {
		var fds []int
		var names []string
		fail := func(err error) (time.Duration, error) {
			for _, fd := range fds {
				unix.Close(fd)
			}
			return 0, err
		}
		for i := b * batch; i < n && i < (b+1)*batch; i++ {
			name := fmt.Sprintf("%d.M%dP%d.fsfloor", start.Unix(), i, os.Getpid())
			fd, err := unix.Open(filepath.Join(tmp, name), unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o600)
			if err != nil {
				return fail(err)
			}
			fds, names = append(fds, fd), append(names, name)
			if err := writeAll(fd, body); err != nil {
				return fail(err)
			}
			switch strategy {
			case "serial-fsync":
				err = unix.Fsync(fd)
			case "wb-syncfs":
				err = unix.SyncFileRange(fd, 0, 0, unix.SYNC_FILE_RANGE_WRITE)
			}
			if err != nil {
				return fail(err)
			}
		}
		var err error
		switch strategy {
		case "parallel-fsync":
			var wg sync.WaitGroup
			var mu sync.Mutex
			sem := make(chan struct{}, 16)
			for _, fd := range fds {
				sem <- struct{}{}
				wg.Go(func() {
					if e := unix.Fsync(fd); e != nil {
						mu.Lock()
						err = e
						mu.Unlock()
					}
					<-sem
				})
			}
			wg.Wait()
		case "syncfs-batch", "wb-syncfs", "syncfs-once":
			err = unix.Syncfs(fds[0])
		}
		if err != nil {
			return fail(err)
		}
		for i, fd := range fds {
			unix.Close(fd)
			if err := unix.Rename(filepath.Join(tmp, names[i]), filepath.Join(nw, names[i])); err != nil {
				return 0, err
			}
		}
		d, err := unix.Open(nw, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return 0, err
		}
		err = unix.Fsync(d)
		unix.Close(d)
		if err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// Mbox appends n messages holding body to the file path (created when
// missing) through one 256 KiB buffer, fsyncs it once, and returns the time
// it took.
func Mbox(path string, n int, body []byte) (time.Duration, error) {
	start := time.Now()
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CREAT|unix.O_APPEND|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	buf := make([]byte, 0, 256<<10)
	for range n {
		buf = append(buf, "From fsfloor@localhost Thu Jan  1 00:00:00 1970\n"...)
		buf = append(buf, body...)
		buf = append(buf, '\n')
		if len(buf) >= 256<<10 {
			if err := writeAll(fd, buf); err != nil {
				return 0, err
			}
			buf = buf[:0]
		}
	}
	if err := writeAll(fd, buf); err != nil {
		return 0, err
	}
	if err := unix.Fsync(fd); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func writeAll(fd int, p []byte) error {
	for len(p) > 0 {
		w, err := unix.Write(fd, p)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		p = p[w:]
	}
	return nil
}

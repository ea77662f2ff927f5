// Command fsfloor is the disk side of the physical limit scripts/bench
// measures: what durable local delivery of N messages of SIZE bytes costs on
// this file system, with no network and no parsing. scripts/bench runs it
// beside the clients, in the same run, so it sees the file system in the
// state they see it. It began as ../shared/bench/fsfloor.go; this copy adds
// strategies and uses raw system calls, so that it measures the file system
// and not the Go runtime.
//
//	fsfloor maildir DIR N SIZE STRATEGY   files created in DIR/tmp, made durable, renamed into DIR/new, new/ fsync'd
//	fsfloor mbox FILE N SIZE              every message appended through one buffer, then one fsync
//
// Maildir strategies (batches of 64 files, like gofetchmail's; each batch
// ends with its renames into new/ and one fsync of new/):
//
//	parallel-fsync  the batch's files fsync'd at its end, 16 at once
//	serial-fsync    each file fsync'd as soon as it is written (mpop's way)
//	syncfs-batch    one syncfs(2) at the end of each batch
//	wb-syncfs       writeback started per file (sync_file_range), one syncfs(2) per batch
//	syncfs-once     all files in one batch, one syncfs(2)
//
// It prints the elapsed seconds.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

func die(err error) {
	fmt.Fprintln(os.Stderr, "fsfloor:", err)
	os.Exit(1)
}

func check(err error) {
	if err != nil {
		die(err)
	}
}

func maildir(base string, n int, body []byte, strategy string) time.Duration {
	for _, d := range []string{"tmp", "new", "cur"} {
		check(os.MkdirAll(filepath.Join(base, d), 0o700))
	}
	switch strategy {
	case "parallel-fsync", "serial-fsync", "syncfs-batch", "wb-syncfs", "syncfs-once":
	default:
		die(fmt.Errorf("unknown strategy %q", strategy))
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
		for i := b * batch; i < n && i < (b+1)*batch; i++ {
			name := fmt.Sprintf("%d.M%dP%d.fsfloor", start.Unix(), i, os.Getpid())
			fd, err := unix.Open(filepath.Join(tmp, name), unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o600)
			check(err)
			for p := body; len(p) > 0; {
				w, err := unix.Write(fd, p)
				check(err)
				p = p[w:]
			}
			switch strategy {
			case "serial-fsync":
				check(unix.Fsync(fd))
			case "wb-syncfs":
				check(unix.SyncFileRange(fd, 0, 0, unix.SYNC_FILE_RANGE_WRITE))
			}
			fds, names = append(fds, fd), append(names, name)
		}
		switch strategy {
		case "parallel-fsync":
			var wg sync.WaitGroup
			sem := make(chan struct{}, 16)
			for _, fd := range fds {
				sem <- struct{}{}
				wg.Go(func() { check(unix.Fsync(fd)); <-sem })
			}
			wg.Wait()
		case "syncfs-batch", "wb-syncfs", "syncfs-once":
			check(unix.Syncfs(fds[0]))
		}
		for i, fd := range fds {
			check(unix.Close(fd))
			check(unix.Rename(filepath.Join(tmp, names[i]), filepath.Join(nw, names[i])))
		}
		d, err := unix.Open(nw, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		check(err)
		check(unix.Fsync(d))
		check(unix.Close(d))
	}
	return time.Since(start)
}

func mbox(path string, n int, body []byte) time.Duration {
	start := time.Now()
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CREAT|unix.O_APPEND|unix.O_CLOEXEC, 0o600)
	check(err)
	buf := make([]byte, 0, 256<<10)
	flush := func() {
		for p := buf; len(p) > 0; {
			w, err := unix.Write(fd, p)
			check(err)
			p = p[w:]
		}
		buf = buf[:0]
	}
	for i := 0; i < n; i++ {
		buf = append(buf, "From fsfloor@localhost Thu Jan  1 00:00:00 1970\n"...)
		buf = append(buf, body...)
		buf = append(buf, '\n')
		if len(buf) >= 256<<10 {
			flush()
		}
	}
	flush()
	check(unix.Fsync(fd))
	check(unix.Close(fd))
	return time.Since(start)
}

func main() {
	usage := "usage: fsfloor maildir DIR N SIZE STRATEGY | fsfloor mbox FILE N SIZE"
	if len(os.Args) < 5 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	n, err1 := strconv.Atoi(os.Args[3])
	size, err2 := strconv.Atoi(os.Args[4])
	if err1 != nil || err2 != nil || n <= 0 || size <= 0 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	body := make([]byte, size)
	for i := range body {
		body[i] = 'a' + byte(i%26)
		if i%76 == 75 {
			body[i] = '\n'
		}
	}
	var d time.Duration
	switch {
	case os.Args[1] == "maildir" && len(os.Args) == 6:
		d = maildir(os.Args[2], n, body, os.Args[5])
	case os.Args[1] == "mbox" && len(os.Args) == 5:
		d = mbox(os.Args[2], n, body)
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	fmt.Printf("%.3f\n", d.Seconds())
}

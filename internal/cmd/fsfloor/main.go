// Command fsfloor is the disk side of the physical limit scripts/bench
// measures (package internal/fsfloor): what durable local delivery of N
// messages of SIZE bytes costs on this file system, with no network and no
// parsing. scripts/bench runs it beside the clients, in the same run, so it
// sees the file system in the state they see it.
//
//	fsfloor maildir DIR N SIZE STRATEGY   files created in DIR/tmp, made durable, renamed into DIR/new, new/ fsync'd
//	fsfloor mbox FILE N SIZE              every message appended through one buffer, then one fsync
//
// STRATEGY is one of fsfloor.Strategies: parallel-fsync, serial-fsync,
// syncfs-batch, wb-syncfs, syncfs-once. It prints the elapsed seconds.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/gofetchmail/gofetchmail/internal/fsfloor"
)

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
	body := fsfloor.Body(size)
	var (
		d   time.Duration
		err error
	)
	switch {
	case os.Args[1] == "maildir" && len(os.Args) == 6:
		d, err = fsfloor.Maildir(os.Args[2], n, body, os.Args[5])
	case os.Args[1] == "mbox" && len(os.Args) == 5:
		d, err = fsfloor.Mbox(os.Args[2], n, body)
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fsfloor:", err)
		os.Exit(1)
	}
	fmt.Printf("%.3f\n", d.Seconds())
}

// Command rigfill refills the interop rig's mailbox with deterministic test
// messages and keeps a copy of each as an original. scripts/rig-fill runs it.
//
//	rigfill -n N [-size BYTES] -maildir DIR -originals DIR [-owner USER]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/user"
	"strconv"

	"github.com/gofetchmail/gofetchmail/interop/internal/rigmail"
)

func main() {
	n := flag.Int("n", 10, "number of messages")
	size := flag.Int("size", 2048, "approximate size of a message in bytes")
	maildir := flag.String("maildir", "", "the server's Maildir (emptied first)")
	originals := flag.String("originals", "", "folder for the originals NNNN.eml (emptied first)")
	owner := flag.String("owner", "", "user that owns the message files (default: the caller)")
	flag.Parse()
	if *maildir == "" || *originals == "" || *n < 0 || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	uid, gid := -1, -1
	if *owner != "" {
		u, err := user.Lookup(*owner)
		if err != nil {
			fail(err)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
	}
	msgs := rigmail.Generate(*n, *size)
	if err := rigmail.Fill(*maildir, *originals, msgs, uid, gid); err != nil {
		fail(err)
	}
	total := 0
	for _, m := range msgs {
		total += len(m.Data)
	}
	fmt.Printf("rig-fill: %d messages (%d bytes) in %s/new, originals in %s\n", len(msgs), total, *maildir, *originals)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "rig-fill:", err)
	os.Exit(1)
}

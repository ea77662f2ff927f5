// Command rigverify checks the messages a retriever delivered into a
// Maildir against the interop rig's originals. scripts/rig-verify runs it.
//
//	rigverify -originals DIR MAILDIR
//
// It prints "N messages verified, M missing, D duplicated" and exits 1 when
// any original is missing or duplicated or an unknown message was delivered.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/gofetchmail/gofetchmail/interop/internal/rigmail"
)

func main() {
	originals := flag.String("originals", "", "folder of the originals NNNN.eml")
	flag.Parse()
	if *originals == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: rigverify -originals DIR MAILDIR")
		os.Exit(2)
	}
	r, err := rigmail.Verify(flag.Arg(0), *originals)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rig-verify:", err)
		os.Exit(1)
	}
	for _, p := range r.Problems {
		fmt.Fprintln(os.Stderr, "rig-verify:", p)
	}
	fmt.Println(r)
	if !r.OK() {
		os.Exit(1)
	}
}

package envelope

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

// TestHostileHeaderEnd: the header ends at the first empty line, even one
// left as "\r\n" by a server that stored "\r\r\n": what the sender wrote in
// the body (a Return-Path, a To naming another local user) is never read
// as a field for the envelope sender or the multidrop recipients.
func TestHostileHeaderEnd(t *testing.T) {
	j := multidropJob(t, "set postmaster \"pm\"\n"+`poll mx.example.org proto pop3 no envelope user "box" there is kilo lima here password x`)
	for _, head := range []string{
		"From: a@example.org\nTo: kilo@mx.example.org\n\nReturn-Path: <evil@x.example>\nTo: lima@mx.example.org\n",
		"From: a@example.org\r\nTo: kilo@mx.example.org\r\n\r\nReturn-Path: <evil@x.example>\r\nTo: lima@mx.example.org\r\n",
		"From: a@example.org\nTo: kilo@mx.example.org\n\r\nReturn-Path: <evil@x.example>\nTo: lima@mx.example.org\n",
	} {
		br := bufio.NewReaderSize(strings.NewReader(head), HeaderPeek)
		if got := Sender(br); got != "a@example.org" {
			t.Errorf("%q: sender %q, want a@example.org", head, got)
		}
		if got := Recipients(j, PeekHeader(br)); len(got) != 1 || got[0] != "kilo" {
			t.Errorf("%q: recipients %v, want [kilo]", head, got)
		}
	}
}

// TestHostileFoldedHeader: a field folded into 20,000 lines is unfolded
// in linear work. Counted in allocations, not time: joining by string
// concatenation made one allocation (and a copy of the whole field) per
// line.
func TestHostileFoldedHeader(t *testing.T) {
	head := []byte("To: a@example.org\n" + strings.Repeat(" , b@example.org\n", 20000) + "Subject: s\n\n")
	var fields []string
	allocs := testing.AllocsPerRun(3, func() { fields = UnfoldHeader(head) })
	if len(fields) != 2 || !strings.HasPrefix(fields[1], "Subject") || len(fields[0]) != len("To: a@example.org")+20000*len(" , b@example.org") {
		t.Fatalf("fields %d, first %d bytes", len(fields), len(fields[0]))
	}
	if allocs > 100 {
		t.Errorf("%v allocations to unfold a field of 20,000 lines", allocs)
	}
}

// TestHostileMultidropDNSFlood: a To of 2,000 made-up domains makes the
// dns option ask about at most maxAliasLookups of them per message (one
// whose name servers time out among them would otherwise keep the message
// on the server), and a local address after them is still found.
func TestHostileMultidropDNSFlood(t *testing.T) {
	var to strings.Builder
	to.WriteString("To: kilo@pop.example.org")
	for i := range 2000 {
		fmt.Fprintf(&to, ", x@flood%d.example.com", i)
	}
	to.WriteString(", lima@pop.example.org\n")
	j := multidropJob(t, "set postmaster pm\n"+`poll pop.example.org proto pop3 no envelope user "box" there is kilo lima here password x`)
	res := example()
	var queries atomic.Int64
	res.Queries = &queries
	c := NewAliasChecker(nil, res, "pop.example.org", nil)
	got, _, err := Resolve(context.Background(), j, UnfoldHeader([]byte(to.String())), c.IsAlias)
	if err != nil || len(got) != 2 || got[0] != "kilo" || got[1] != "lima" {
		t.Errorf("recipients %v, %v; want [kilo lima]", got, err)
	}
	// Up to three queries a domain (address, CNAME, MX), and the server's
	// own names once.
	if n := queries.Load(); n > 3*maxAliasLookups+4 {
		t.Errorf("%d DNS queries for one message", n)
	}
}

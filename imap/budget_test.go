package imap

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A UID SEARCH answer is read only up to maxSearchBytes: a server sending
// an endless "* SEARCH 1 3 5 ..." (every number a range of its own in
// go-imap's set, about twice its wire size in memory) gets a
// *ProtocolError once the budget is spent, not memory for as long as the
// timeout lasts. The server here offers 16 times the budget (lowered to 1
// MiB); the client must stop reading well before the end.
func TestSearchAnswerBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const budget = 1 << 20 // the real one, maxSearchBytes, takes long to parse under -race
	const offered = 16 * budget
	var written atomic.Int64
	served := make(chan struct{})
	go func() {
		defer close(served)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		fmt.Fprint(c, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			tag, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
			switch {
			case strings.HasPrefix(rest, "SELECT"):
				fmt.Fprintf(c, "* 1 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n%s OK [READ-WRITE] done\r\n", tag)
			case strings.HasPrefix(rest, "UID SEARCH"):
				w := bufio.NewWriterSize(c, 1<<16)
				w.WriteString("* SEARCH")
				for n := 1; written.Load() < offered; n += 2 {
					k, err := fmt.Fprintf(w, " %d", n)
					if err != nil {
						return // the client hung up: what it had to
					}
					written.Add(int64(k))
				}
				fmt.Fprintf(w, "\r\n%s OK done\r\n", tag)
				w.Flush()
			default:
				fmt.Fprintf(c, "%s OK\r\n", tag)
			}
		}
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), conn, &Options{Timeout: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.searchBudget = budget
	if _, err := s.Select(context.Background(), "INBOX", false); err != nil {
		t.Fatal(err)
	}
	_, err = s.Search(context.Background(), Query{Unseen: true})
	var pe *ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("Search: %v, want a *ProtocolError", err)
	}
	s.Close()
	<-served
	if w := written.Load(); w >= offered {
		t.Errorf("the client read the whole %d MiB answer", w>>20)
	}
}

package imap

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"
)

// FuzzSessionResponses feeds arbitrary server bytes to the response path
// of a session: SELECT, the FETCH 1:* (UID) listing, UID SEARCH, the
// RFC822.SIZE and BODY[] UID FETCHes, UID STORE and EXPUNGE. The input is
// a script of reply blocks separated by "~\r\n", each answering the next
// command line the client sends, with "$T" standing for that command's
// tag (the greeting, PREAUTH, is fixed). Whatever the server says, the
// session must neither panic nor hang, and FetchStaged must keep its
// contract: every Pending is committed or aborted exactly once, and only
// a body read whole is ever committed.
func FuzzSessionResponses(f *testing.F) {
	seed := []string{
		"* 2 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n* OK [UIDNEXT 3] x\r\n$T OK [READ-WRITE] done\r\n", // SELECT
		"* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\n$T OK done\r\n",                                  // FETCH 1:* (UID)
		"* SEARCH 1 2\r\n$T OK done\r\n",                                                            // UID SEARCH
		"* 1 FETCH (UID 1 RFC822.SIZE 20)\r\n* 2 FETCH (UID 2 RFC822.SIZE 20)\r\n$T OK done\r\n",    // sizes
		"* 1 FETCH (UID 1 BODY[] {20}\r\nSubject: a\r\n\r\nbody a)\r\n" +
			"* 2 FETCH (UID 2 BODY[] {20}\r\nSubject: b\r\n\r\nbody b)\r\n$T OK done\r\n", // bodies
		"$T OK stored\r\n", // UID STORE
		"* 2 EXPUNGE\r\n* 1 EXPUNGE\r\n$T OK expunged\r\n", // UID EXPUNGE
	}
	f.Add([]byte(bytes.Join(toBytes(seed), []byte("~\r\n"))))
	short := slices.Clone(seed)
	short[4] = "* 1 FETCH (UID 1 BODY[] {10}\r\nSubject: a\r\n\r\nbody a)\r\n$T OK done\r\n"
	f.Add([]byte(bytes.Join(toBytes(short), []byte("~\r\n"))))
	dup := slices.Clone(seed)
	dup[1] = "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 1)\r\n$T OK done\r\n"
	dup[4] = "* 1 FETCH (UID 1 BODY[] {20}\r\nSubject: a\r\n\r\nbody a)\r\n* 2 FETCH (UID 1 BODY[] {20}\r\nSubject: b\r\n\r\nbody b)\r\n* 3 FETCH (BODY[HEADER] {2}\r\nx\r\n UID 2)\r\n$T OK done\r\n"
	f.Add([]byte(bytes.Join(toBytes(dup), []byte("~\r\n"))))

	f.Fuzz(func(t *testing.T, in []byte) {
		cli, srv := net.Pipe()
		go serveBlocks(srv, bytes.Clone(in))
		done := make(chan struct{})
		go func() {
			defer close(done)
			exercise(t, cli)
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("the session hangs on %q", in)
		}
	})
}

func toBytes(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// serveBlocks greets with PREAUTH, then answers each command line with
// the next block; it closes the connection when the blocks run out or no
// command comes within 200 ms (the client is waiting for the rest of an
// answer the block did not complete).
func serveBlocks(c net.Conn, in []byte) {
	defer c.Close()
	if _, err := io.WriteString(c, "* PREAUTH [CAPABILITY IMAP4rev1 UIDPLUS] hi\r\n"); err != nil {
		return
	}
	br := bufio.NewReader(c)
	for _, b := range bytes.Split(in, []byte("~\r\n")) {
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		line, err := br.ReadBytes('\n')
		if err != nil {
			return
		}
		tag, _, _ := bytes.Cut(line, []byte(" "))
		c.SetWriteDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Write(bytes.ReplaceAll(b, []byte("$T"), tag)); err != nil {
			return
		}
	}
}

// fuzzPending checks FetchStaged's contract on one staged body.
type fuzzPending struct {
	t        *testing.T
	mu       *sync.Mutex
	whole    bool // the body was read to its end without error
	resolved int
}

func (p *fuzzPending) Commit() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resolved++
	if !p.whole {
		p.t.Errorf("a body not read whole was committed")
	}
	return nil
}

func (p *fuzzPending) Abort() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resolved++
}

func exercise(t *testing.T, conn net.Conn) {
	ctx := context.Background()
	s, err := Open(ctx, conn, &Options{Timeout: 2 * time.Second})
	if err != nil {
		return
	}
	defer s.Close()
	if _, err := s.Select(ctx, "INBOX", false); err != nil && !isStatus(err) {
		return
	}
	all, _ := s.ListUIDs(ctx)
	if len(all) > MaxSearchResults {
		t.Errorf("ListUIDs returned %d UIDs", len(all))
	}
	uids, _ := s.Search(ctx, Query{Unseen: true, Undeleted: true})
	if !slices.IsSorted(uids) || len(slices.Compact(slices.Clone(uids))) != len(uids) {
		t.Errorf("Search returned %v: not sorted and distinct", uids)
	}
	if len(uids) > 64 {
		uids = uids[:64]
	}
	if len(uids) == 0 {
		uids = []uint32{1, 2}
	}
	s.Sizes(ctx, uids)
	var mu sync.Mutex
	var staged []*fuzzPending
	err = s.FetchStaged(ctx, uids, func(b Body) (Pending, error) {
		if b.Size < 0 {
			t.Errorf("a body of %d octets", b.Size)
		}
		n, err := io.Copy(io.Discard, b.R)
		p := &fuzzPending{t: t, mu: &mu, whole: err == nil && n == b.Size}
		staged = append(staged, p)
		if err != nil {
			return nil, err
		}
		return p, nil
	})
	mu.Lock()
	for _, p := range staged {
		if p.whole && p.resolved != 1 {
			t.Errorf("a staged body was committed or aborted %d times (FetchStaged: %v)", p.resolved, err)
		}
	}
	mu.Unlock()
	s.StrayBodies()
	s.Store(ctx, uids, FlagSeen, FlagDeleted)
	s.Expunge(ctx, uids)
}

func isStatus(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

package fetch

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"
)

// FuzzIMAPPoll is FuzzPoll for IMAP. The input is a script of reply
// blocks separated by "~\r\n": the first is the greeting, each later one
// answers the next command line the client sends, with "$T" standing for
// that command's tag. Whatever the server says, the poll must neither
// panic (in gofetchmail or in go-imap), nor run out of memory, nor hang.
func FuzzIMAPPoll(f *testing.F) {
	blocks := []string{
		"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n",
		"$T OK [CAPABILITY IMAP4rev1 UIDPLUS IDLE] Logged in\r\n",                                   // LOGIN
		"* 2 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n* OK [UIDNEXT 3] x\r\n$T OK [READ-WRITE] done\r\n", // SELECT
		"* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\n$T OK done\r\n",                                  // FETCH 1:* (UID)
		"* SEARCH 1 2\r\n$T OK done\r\n",                                                            // UID SEARCH UNSEEN UNDELETED
		"* 1 FETCH (UID 1 RFC822.SIZE 20)\r\n* 2 FETCH (UID 2 RFC822.SIZE 20)\r\n$T OK done\r\n",
		"* 1 FETCH (UID 1 BODY[] {20}\r\nSubject: a\r\n\r\nbody a)\r\n" +
			"* 2 FETCH (UID 2 BODY[] {20}\r\nSubject: b\r\n\r\nbody b)\r\n$T OK done\r\n",
		"$T OK stored\r\n", // UID STORE
		"* 2 EXPUNGE\r\n* 1 EXPUNGE\r\n$T OK expunged\r\n", // UID EXPUNGE
		"* BYE bye\r\n$T OK done\r\n",                      // LOGOUT
	}
	f.Add([]byte(joinBlocks(blocks)))
	f.Add([]byte(joinBlocks([]string{blocks[0], blocks[1], "* 4294967295 EXISTS\r\n$T OK x\r\n", "* SEARCH 4294967295 0 1\r\n$T OK\r\n"})))
	f.Add([]byte(joinBlocks([]string{blocks[0], blocks[1], blocks[2], "* 1 FETCH (UID 7)\r\n* 2 FETCH (UID 7)\r\n$T OK\r\n", "* SEARCH 7 7\r\n$T OK\r\n", blocks[5],
		"* 1 FETCH (UID 7 BODY[] {20}\r\nSubject: a\r\n\r\nbody a)\r\n* 2 FETCH (UID 7 BODY[] {9}\r\nSubject: b\r\n\r\nbody b)\r\n$T OK done\r\n"})))
	f.Add([]byte(joinBlocks([]string{"* PREAUTH hi\r\n", "* 1 FETCH (UID 1 BODY[] {99999999999}\r\nx\r\n"})))

	f.Fuzz(func(t *testing.T, in []byte) {
		addr := serveScript(t, in, serveIMAPScript)
		e := &imapEnv{log: &syncBuffer{}}
		dir := t.TempDir()
		e.maildir = filepath.Join(dir, "Maildir")
		uids, err := LoadUIDStore(filepath.Join(dir, "fetchids"))
		if err != nil {
			t.Fatal(err)
		}
		e.rejobAt(t, addr, "imap", "")
		e.job.Server.Timeout = 2
		opts := Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test", Hostname: "desk.example.net"}
		done := make(chan struct{})
		go func() {
			defer close(done)
			Run(context.Background(), []Job{e.job}, uids, opts)
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("the poll hangs on %q", in)
		}
	})
}

func joinBlocks(blocks []string) string {
	var b bytes.Buffer
	for i, s := range blocks {
		if i > 0 {
			b.WriteString("~\r\n")
		}
		b.WriteString(s)
	}
	return b.String()
}

// serveIMAPScript sends the greeting block, then one block per command
// line read, with $T replaced by the command's tag; it closes the
// connection when the blocks run out, or when no command follows a block
// within 200 ms (the client is then waiting for an answer the block did
// not complete), so that a mutated script fails fast instead of waiting
// for the client's timeout.
func serveIMAPScript(c net.Conn, in []byte) {
	defer c.Close()
	blocks := bytes.Split(in, []byte("~\r\n"))
	c.Write(blocks[0])
	br := bufio.NewReader(c)
	for _, b := range blocks[1:] {
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		line, err := br.ReadBytes('\n')
		if err != nil {
			return
		}
		tag, _, _ := bytes.Cut(line, []byte(" "))
		if _, err := c.Write(bytes.ReplaceAll(b, []byte("$T"), tag)); err != nil {
			return
		}
	}
}

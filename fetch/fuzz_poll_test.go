package fetch

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"
)

// FuzzPoll plays arbitrary server bytes to a whole poll: greeting, CAPA,
// login, STAT, UIDL, LIST, RETR, DELE, QUIT, delivery into a maildir and
// the idfile. Whatever the server says, the poll must neither panic, nor
// run out of memory, nor hang. (The byte-level POP3 reader has its own
// fuzz target in package pop3; this one reaches the engine's use of what
// the server announced: counts, sizes, UIDs.)
func FuzzPoll(f *testing.F) {
	session := "+OK ready\r\n" +
		"+OK\r\nUSER\r\nUIDL\r\nPIPELINING\r\n.\r\n" + // CAPA
		"+OK\r\n+OK logged in\r\n" + // USER, PASS
		"+OK 2 120\r\n" + // STAT
		"+OK\r\n1 uid-a\r\n2 uid-b\r\n.\r\n" + // UIDL
		"+OK\r\n1 60\r\n2 60\r\n.\r\n" + // LIST
		"+OK\r\nSubject: a\r\n\r\nbody a\r\n.\r\n" + // RETR 1
		"+OK\r\nSubject: b\r\n\r\n..dot\r\n.\r\n" + // RETR 2
		"+OK\r\n+OK\r\n+OK bye\r\n" // DELE, DELE, QUIT
	f.Add([]byte(session))
	f.Add([]byte("+OK\r\n-ERR\r\n+OK\r\n+OK\r\n+OK 1 10\r\n-ERR no uidl\r\n+OK 1 10\r\n+OK\r\nx\r\n.\r\n+OK\r\n+OK\r\n"))
	f.Add([]byte("+OK\r\n+OK\r\n.\r\n+OK\r\n+OK\r\n+OK 3 99999999999\r\n+OK\r\n1 a\r\n1 a\r\n3 \x00\r\n.\r\n"))

	f.Fuzz(func(t *testing.T, in []byte) {
		addr := serveScript(t, in, func(c net.Conn, in []byte) {
			defer c.Close()
			c.Write(in)
			c.(*net.TCPConn).CloseWrite() // the script is all the server says
			io.Copy(io.Discard, c)
		})
		dir := t.TempDir()
		job := testJob(t, addr)
		md := filepath.Join(dir, "Maildir")
		job.User.Maildir = &md
		job.Server.Timeout = 2
		uids, err := LoadUIDStore(filepath.Join(dir, "fetchids"))
		if err != nil {
			t.Fatal(err)
		}
		opts := Options{
			Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
			Version:  "test",
			Hostname: "desk.example.net",
			Resolver: fakeResolver{},
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			Run(context.Background(), []Job{job}, uids, opts)
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("the poll hangs on %q", in)
		}
	})
}

// serveScript listens on a loopback port for the length of the test and
// runs serve with the script on every connection to it.
func serveScript(t *testing.T, script []byte, serve func(net.Conn, []byte)) string {
	script = bytes.Clone(script) // the fuzzer reuses in
	return serveLoopback(t, nil, func(c net.Conn) { serve(c, script) })
}

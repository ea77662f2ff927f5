package fetch

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
	"github.com/gofetchmail/gofetchmail/rcparse"
)

// benchMessages returns n messages of about size bytes each, with lines of
// 76 characters as in real mail.
func benchMessages(n, size int) ([]pop3test.Message, int64) {
	line := bytes.Repeat([]byte("x"), 75)
	line = append(line, '\n')
	var total int64
	msgs := make([]pop3test.Message, n)
	for i := range msgs {
		var b bytes.Buffer
		fmt.Fprintf(&b, "From: a@example.org\nTo: b@example.org\nSubject: bench %d\nMessage-ID: <%d@example.org>\n\n", i, i)
		for b.Len() < size {
			b.Write(line)
		}
		msgs[i] = pop3test.Message{UID: fmt.Sprintf("uid-%06d", i), Data: b.Bytes()}
		total += int64(b.Len())
	}
	return msgs, total
}

// BenchmarkPollMaildir is one whole poll against the in-process server:
// login, UIDL, pipelined RETR, header processing, group-committed maildir
// delivery, idfile and DELE, for 200 messages of 4 KB, with the engine's
// batch size (64) and others: every batch costs a round of journal commits
// (staged fsyncs, journal, renames, new/, idfile).
func BenchmarkPollMaildir(b *testing.B) {
	msgs, total := benchMessages(200, 4096)
	for _, batch := range []int{16, 64, 256} {
		b.Run(fmt.Sprintf("batch%d", batch), func(b *testing.B) {
			b.SetBytes(total)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				mb := pop3test.NewMailbox("msingh", "foobar", msgs...)
				srv, err := pop3test.NewServer(mb, nil)
				if err != nil {
					b.Fatal(err)
				}
				dir := b.TempDir()
				job := benchJob(b, srv.Addr, dir)
				md := filepath.Join(dir, "Maildir")
				job.User.Maildir = &md
				uids, err := LoadUIDStore(filepath.Join(dir, "fetchids"))
				if err != nil {
					b.Fatal(err)
				}
				opts := Options{
					Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
					Version:   "bench",
					Hostname:  "desk.example.net",
					BatchSize: batch,
				}
				b.StartTimer()
				res := Run(context.Background(), []Job{job}, uids, opts)
				b.StopTimer()
				if res[0].Err != nil || res[0].Delivered != len(msgs) {
					b.Fatalf("poll: %+v", res[0])
				}
				srv.Close()
				b.StartTimer()
			}
		})
	}
}

// benchJob is a plain-TCP POP3 entry for the fake server at addr.
func benchJob(b *testing.B, addr, home string) Job {
	host, port, _ := strings.Cut(addr, ":")
	src := fmt.Sprintf("poll %s proto pop3 port %s timeout 5\n  user msingh there is manish here password foobar sslproto ''\n", host, port)
	cfg, _, err := rcparse.Parse("bench.rc", []byte(src), rcparse.Options{User: "bench", Home: home})
	if err != nil {
		b.Fatal(err)
	}
	return Job{Config: cfg, Server: cfg.Servers[0], User: cfg.Servers[0].Users[0]}
}

// BenchmarkPollKept is one keep poll that finds 10 new messages among
// 100,000 kept ones whose UIDs the idfile remembers: UIDL, the idfile's
// load, lookup and rewrite dominate.
func BenchmarkPollKept(b *testing.B) {
	const kept, fresh = 100000, 10
	msgs := make([]pop3test.Message, kept+fresh)
	var ids bytes.Buffer
	for i := range msgs {
		uid := fmt.Sprintf("%08x%08x", i, 1764000000)
		msgs[i] = pop3test.Message{UID: uid, Data: []byte(fmt.Sprintf("Subject: %d\n\nbody\n", i))}
		if i < kept {
			fmt.Fprintf(&ids, "msingh@127.0.0.1 %s\n", uid)
		}
	}
	mb := pop3test.NewMailbox("msingh", "foobar", msgs...)
	srv, err := pop3test.NewServer(mb, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		job := benchJob(b, srv.Addr, dir)
		job.User.Keep = true
		md := filepath.Join(dir, "Maildir")
		job.User.Maildir = &md
		idfile := filepath.Join(dir, "fetchids")
		if err := os.WriteFile(idfile, ids.Bytes(), 0o600); err != nil {
			b.Fatal(err)
		}
		opts := Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "bench", Hostname: "desk.example.net"}
		b.StartTimer()
		uids, err := LoadUIDStore(idfile)
		if err != nil {
			b.Fatal(err)
		}
		res := Run(context.Background(), []Job{job}, uids, opts)
		if res[0].Err != nil || res[0].Delivered != fresh {
			b.Fatalf("poll: %+v", res[0])
		}
	}
}

package pop3_test

import (
	"bytes"
	"net"
	"strconv"
	"testing"

	gopop3 "github.com/knadh/go-pop3"

	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
)

// TestGoPop3AgainstFakeServer uses github.com/knadh/go-pop3, a client
// written by others, to check that pop3test speaks real POP3 and not just
// whatever our own client expects.
func TestGoPop3AgainstFakeServer(t *testing.T) {
	msgs := []pop3test.Message{
		{UID: "a1", Data: []byte("From: x@example.org\nSubject: one\n\nbody\n.dot line\n..two dots\n")},
		{UID: "b2", Data: []byte("Subject: two\r\n\r\n\xe4 8-bit\r\n")},
	}
	mb := pop3test.NewMailbox(user, pass, msgs...)
	s := newServer(t, mb, nil)
	host, port, _ := net.SplitHostPort(s.Addr)
	p, _ := strconv.Atoi(port)
	conn, err := gopop3.New(gopop3.Opt{Host: host, Port: p}).NewConn()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Quit()

	if err := conn.Auth(user, "wrong"); err == nil {
		t.Fatal("go-pop3 logged in with a wrong password")
	}
	if err := conn.Auth(user, pass); err != nil {
		t.Fatalf("go-pop3 Auth: %v", err)
	}
	count, size, err := conn.Stat()
	if err != nil || count != 2 {
		t.Fatalf("go-pop3 Stat = %d, %d, %v", count, size, err)
	}
	uids, err := conn.Uidl(0)
	if err != nil || len(uids) != 2 || uids[0].UID != "a1" || uids[1].UID != "b2" {
		t.Fatalf("go-pop3 Uidl = %+v, %v", uids, err)
	}
	total := 0
	for i, m := range msgs {
		buf, err := conn.RetrRaw(i + 1)
		if err != nil {
			t.Fatalf("go-pop3 RetrRaw %d: %v", i+1, err)
		}
		// go-pop3 gives the unstuffed lines joined with CRLF.
		want := bytes.ReplaceAll(bytes.ReplaceAll(m.Data, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("go-pop3 RetrRaw %d = %q, want %q", i+1, buf.Bytes(), want)
		}
		total += len(want)
	}
	if size != total {
		t.Errorf("go-pop3 Stat size = %d, want %d", size, total)
	}
	if err := conn.Dele(1); err != nil {
		t.Fatal(err)
	}
	if err := conn.Quit(); err != nil {
		t.Fatal(err)
	}
	if left := mb.Messages(); len(left) != 1 || left[0].UID != "b2" {
		t.Errorf("after go-pop3 DELE 1 and QUIT: %+v", left)
	}
}

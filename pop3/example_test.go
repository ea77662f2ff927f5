package pop3_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"time"

	"github.com/gofetchmail/gofetchmail/pop3"
	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
)

// Example fetches every message and deletes it, the way a fetchmail poll
// does, against the in-process fake server.
func Example() {
	mbox := pop3test.NewMailbox("alice", "secret",
		pop3test.Message{UID: "m1", Data: []byte("Subject: hello\n\n.a line starting with a dot\n")})
	srv, err := pop3test.NewServer(mbox, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	conn, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	c := pop3.NewClient(conn, &pop3.Options{Timeout: time.Minute})
	defer c.Close()
	if _, err := c.Greeting(ctx); err != nil {
		log.Fatal(err)
	}
	if err := c.User(ctx, "alice"); err != nil {
		log.Fatal(err)
	}
	if err := c.Pass(ctx, "secret"); err != nil {
		if pop3.IsAuthError(err) {
			log.Fatal("wrong password")
		}
		log.Fatal(err)
	}
	sizes, err := c.List(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range sizes {
		r, err := c.Retr(ctx, s.Num)
		if err != nil {
			log.Fatal(err)
		}
		// Cap what a misbehaving server can make us read.
		if _, err := io.Copy(os.Stdout, io.LimitReader(r, s.Size+1024)); err != nil {
			log.Fatal(err)
		}
		if err := r.Close(); err != nil {
			log.Fatal(err)
		}
		if err := c.Dele(ctx, s.Num); err != nil {
			log.Fatal(err)
		}
	}
	if err := c.Quit(ctx); err != nil { // deletions happen here
		log.Fatal(err)
	}
	fmt.Println("left on server:", len(mbox.Messages()))
	// Output:
	// Subject: hello
	//
	// .a line starting with a dot
	// left on server: 0
}

package pop3_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/gofetchmail/gofetchmail/pop3"
)

// endlessServer answers on conn: +OK to everything, STAT with stat (if
// not empty), and the command named endless with a multi-line answer that
// never ends. It stops when the client closes the connection.
func endlessServer(conn net.Conn, stat, endless string) {
	defer conn.Close()
	w := bufio.NewWriter(conn)
	br := bufio.NewReader(conn)
	fmt.Fprint(w, "+OK ready\r\n")
	w.Flush()
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		switch cmd := strings.TrimSpace(line); {
		case cmd == endless:
			fmt.Fprint(w, "+OK here it comes\r\n")
			for i := 1; ; i++ {
				if _, err := fmt.Fprintf(w, "%d %d\r\n", i, 100+i); err != nil {
					return
				}
			}
		case cmd == "STAT" && stat != "":
			fmt.Fprintf(w, "+OK %s\r\n", stat)
		default:
			fmt.Fprint(w, "+OK\r\n")
		}
		if w.Flush() != nil {
			return
		}
	}
}

// A server that never ends a CAPA, UIDL or LIST answer gets a protocol
// error after a bounded number of lines instead of a session that runs
// (and grows) forever.
func TestEndlessListing(t *testing.T) {
	cases := []struct {
		name, stat, cmd string
		call            func(ctx context.Context, c *pop3.Client) error
	}{
		{"CAPA", "", "CAPA", func(ctx context.Context, c *pop3.Client) error { _, err := c.Capa(ctx); return err }},
		{"UIDL after STAT", "3 300", "UIDL", func(ctx context.Context, c *pop3.Client) error {
			if _, _, err := c.Stat(ctx); err != nil {
				return err
			}
			_, err := c.UIDL(ctx)
			return err
		}},
		{"LIST after STAT", "3 300", "LIST", func(ctx context.Context, c *pop3.Client) error {
			if _, _, err := c.Stat(ctx); err != nil {
				return err
			}
			_, err := c.List(ctx)
			return err
		}},
		{"UIDL without STAT", "", "UIDL", func(ctx context.Context, c *pop3.Client) error { _, err := c.UIDL(ctx); return err }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := net.Pipe()
			go endlessServer(b, tc.stat, tc.cmd)
			c := pop3.NewClient(a, &pop3.Options{Timeout: generous})
			defer c.Close()
			ctx := context.Background()
			if _, err := c.Greeting(ctx); err != nil {
				t.Fatal(err)
			}
			err := tc.call(ctx, c)
			var pe *pop3.ProtocolError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), "goes on past") {
				t.Fatalf("got %v, want a protocol error for an endless answer", err)
			}
			if !strings.Contains(err.Error(), tc.cmd) {
				t.Errorf("the error %q does not name %s", err, tc.cmd)
			}
		})
	}
}

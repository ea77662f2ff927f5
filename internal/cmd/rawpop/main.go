// Command rawpop is the wire side of the physical limit scripts/bench
// measures: a POP3 "client" that only reads. It writes USER, PASS, RETR 1..N
// and QUIT down one connection (RFC 2449 section 6.6 pipelining; dovecot
// offers it) while it copies everything the server sends into a file,
// parsing nothing. No mail retriever can fetch the mailbox faster than the
// server and the transport stream it to this program.
//
//	rawpop [-host 127.0.0.1] [-dele] -port P -user U -pass P -n N -o FILE
//
// With -dele it also sends DELE 1..N before the QUIT, so that the server
// expunges what was fetched: the server's own share of a poll that deletes.
//
// The commands are written by a second goroutine so that the server's
// answers are read while the commands still go out. The caller checks the
// output afterwards (scripts/bench counts the N lines "." that end the
// messages); rawpop itself only fails when the connection does.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
)

func main() {
	host := flag.String("host", "127.0.0.1", "server address")
	port := flag.Int("port", 110, "server port")
	user := flag.String("user", "", "POP3 user")
	pass := flag.String("pass", "", "POP3 password")
	n := flag.Int("n", 0, "number of messages to RETR")
	out := flag.String("o", "", "file the stream is copied to")
	dele := flag.Bool("dele", false, "also DELE 1..N before QUIT: the server's own cost of expunging what was fetched")
	flag.Parse()
	if *out == "" || *n <= 0 {
		fmt.Fprintln(os.Stderr, "usage: rawpop -port P -user U -pass P -n N -o FILE")
		os.Exit(2)
	}
	if err := run(*host, *port, *user, *pass, *n, *out, *dele); err != nil {
		fmt.Fprintln(os.Stderr, "rawpop:", err)
		os.Exit(1)
	}
}

func run(host string, port int, user, pass string, n int, out string, dele bool) error {
	c, err := net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return err
	}
	defer c.Close()
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	werr := make(chan error, 1)
	go func() {
		w := bufio.NewWriterSize(c, 64<<10)
		fmt.Fprintf(w, "USER %s\r\nPASS %s\r\n", user, pass)
		for i := 1; i <= n; i++ {
			w.WriteString("RETR " + strconv.Itoa(i) + "\r\n")
		}
		for i := 1; dele && i <= n; i++ {
			w.WriteString("DELE " + strconv.Itoa(i) + "\r\n")
		}
		w.WriteString("QUIT\r\n")
		werr <- w.Flush()
	}()
	// The server closes the connection after QUIT's answer.
	if _, err := io.CopyBuffer(f, c, make([]byte, 1<<20)); err != nil {
		return err
	}
	if err := <-werr; err != nil {
		return err
	}
	return f.Close()
}

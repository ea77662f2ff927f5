package imap

import (
	"io"
	"net"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

func TestCapGuard(t *testing.T) {
	cases := []struct{ in, want string }{
		{"* OK [CAPABILITY IMAP4rev1 X (Y] hi (there)\r\n", "* OK [CAPABILITY IMAP4rev1 X  Y] hi  there \r\n"},
		{"* CAPABILITY IMAP4rev1 (IDLE)\r\n", "* CAPABILITY IMAP4rev1  IDLE \r\n"},
		{"a1 ok [capability imap4rev1 (]\r\n", "a1 ok [capability imap4rev1  ]\r\n"},
		{"* PREAUTH [CAPABILITY IMAP4rev1(]\r\n", "* PREAUTH [CAPABILITY IMAP4rev1 ]\r\n"},
		{"T1 OK [CAPABILITY(\n", "T1 OK [CAPABILITY \n"},
		{"T1 K [CAPABILITY(\n", "T1 K [CAPABILITY \n"},
		{"* capability(x)\r\n", "* capability x \r\n"},
		// Not capability lists: untouched.
		{"* LIST (\\HasNoChildren) \"/\" CAPABILITY\r\n", ""},
		{"* OK [PERMANENTFLAGS (\\*)] x\r\n", ""},
		{"T3 OK [CAPABILITYX (a)] x\r\n", ""},
		{"* 2 FETCH (UID 4 FLAGS (\\Seen))\r\n", ""},
		// A literal passes untouched, whatever it holds; the line after
		// it is filtered again.
		{"* 1 FETCH (UID 1 BODY[] {31}\r\n* CAPABILITY (not a cap list)\r\n)\r\n* CAPABILITY A (B\r\n",
			"* 1 FETCH (UID 1 BODY[] {31}\r\n* CAPABILITY (not a cap list)\r\n)\r\n* CAPABILITY A  B\r\n"},
		{"* 1 FETCH (BODY[] {5+}\r\n(((((\r\n", ""},
	}
	for _, c := range cases {
		want := c.want
		if want == "" {
			want = c.in
		}
		for name, r := range map[string]io.Reader{
			"whole":        newCapGuard(strings.NewReader(c.in)),
			"byte by byte": newCapGuard(iotest.OneByteReader(strings.NewReader(c.in))),
			"half by half": newCapGuard(iotest.HalfReader(strings.NewReader(c.in))),
		} {
			got, err := io.ReadAll(r)
			if err != nil || string(got) != want {
				t.Errorf("%s: %q\n got %q, %v\nwant %q", name, c.in, got, err, want)
			}
		}
	}
}

// Without the guard, imapclient never returns from this greeting (see
// capGuard); with it, the session starts.
func TestCapGuardKeepsImapclientFromSpinning(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go func() {
		b.Write([]byte("* OK [CAPABILITY IMAP4rev1 AUTHCH (IN] ready\r\n"))
		io.Copy(io.Discard, b)
	}()
	c := imapclient.New(&prefixConn{Conn: a, r: newCapGuard(a)}, nil)
	defer c.Close()
	done := make(chan error, 1)
	go func() { done <- c.WaitGreeting() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("greeting: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("imapclient still reading the greeting after 10 s")
	}
	if caps := c.Caps(); !caps.Has("AUTHCH") || !caps.Has("IN") {
		t.Errorf("capabilities %v", caps)
	}
}

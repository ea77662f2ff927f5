//go:build linux

package transport

import (
	"io"
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

func TestQuickAckConn(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Write([]byte("hello"))
			c.Close()
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	qc := withQuickAck(c)
	q, ok := qc.(*quickAckConn)
	if !ok {
		t.Fatalf("a TCP conn was not wrapped: %T", qc)
	}
	var opt int
	var oerr error
	q.raw.Control(func(fd uintptr) {
		// Before any read: off (the kernel's default for a new socket
		// that has received nothing is not asserted; only that the
		// option can be read).
		opt, oerr = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_QUICKACK)
	})
	if oerr != nil {
		t.Fatalf("TCP_QUICKACK cannot be read on this system: %v", oerr)
	}
	_ = opt
	data, err := io.ReadAll(qc)
	if err != nil || string(data) != "hello" {
		t.Fatalf("read through the wrapper: %q, %v", data, err)
	}
	// Something that is not a TCP conn passes through unchanged.
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if withQuickAck(a) != a {
		t.Error("a net.Pipe conn was wrapped")
	}
}

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
	// The option cannot be observed from here (Linux reports a fresh
	// socket as in quick-ACK mode already); what can fail is that setting
	// it is refused, which Read would hide.
	var serr error
	if err := q.raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_QUICKACK, 1)
	}); err != nil || serr != nil {
		t.Fatalf("TCP_QUICKACK cannot be set on this system: %v %v", err, serr)
	}
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

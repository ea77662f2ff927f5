package fetch

import (
	"net"
	"sync"
	"testing"
)

// serveLoopback accepts connections on ln (nil: a new TCP listener on
// 127.0.0.1) for the rest of the test and runs serve in a goroutine for
// each, returning the listener's address. At cleanup it closes the
// listener and every accepted connection, then waits for the serve calls
// to return.
func serveLoopback(t *testing.T, ln net.Listener, serve func(c net.Conn)) string {
	t.Helper()
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); serve(c) }()
		}
	}()
	return ln.Addr().String()
}

// proxyTo is a serveLoopback serve function that connects c to target and
// runs up (c to target) and down (target to c) until both end; down is
// run last and closes both connections when it returns.
func proxyTo(target string, up, down func(c, s net.Conn)) func(net.Conn) {
	return func(c net.Conn) {
		s, err := net.Dial("tcp", target)
		if err != nil {
			c.Close()
			return
		}
		done := make(chan struct{})
		go func() { defer close(done); up(c, s) }()
		down(c, s)
		c.Close()
		s.Close()
		<-done
	}
}

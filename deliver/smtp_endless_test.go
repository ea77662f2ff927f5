package deliver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/internal/sasl"
)

// hostileSMTP offers AUTH LOGIN and then either answers every AUTH line
// with "334 Password:" (endless) or stops answering after EHLO (stall).
func hostileSMTP(t *testing.T, stall bool, lines *atomic.Int64) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				fmt.Fprintf(c, "220 hostile ESMTP\r\n")
				inAuth := false
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					switch {
					case strings.HasPrefix(strings.ToUpper(line), "EHLO"):
						fmt.Fprintf(c, "250-hostile\r\n250 AUTH LOGIN\r\n")
					case stall:
						// say nothing more
					case inAuth || strings.HasPrefix(strings.ToUpper(line), "AUTH"):
						inAuth = true
						lines.Add(1)
						fmt.Fprintf(c, "334 UGFzc3dvcmQ6\r\n")
					default:
						fmt.Fprintf(c, "502 no\r\n")
					}
				}
			}()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return "127.0.0.1/" + port
}

// beginGuarded runs Begin, failing the test instead of hanging it.
func beginGuarded(t *testing.T, s *SMTP) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		tx, err := s.Begin(context.Background(), Envelope{To: []string{"joe"}})
		if err == nil {
			tx.Abort()
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(60 * time.Second):
		t.Fatal("Begin did not return within a minute")
		return nil
	}
}

// TestSMTPAuthEndlessChallenges: an SMTP server answering every AUTH line
// with another 334 ends the connection attempt after a few rounds
// (issue 14.3).
func TestSMTPAuthEndlessChallenges(t *testing.T) {
	var lines atomic.Int64
	host := hostileSMTP(t, false, &lines)
	s := newTestSMTP(t, SMTPOptions{Hosts: []string{host}, AuthUser: "fm", AuthPassword: "s3cret", Timeout: 5 * time.Second})
	err := beginGuarded(t, s)
	if !errors.Is(err, sasl.ErrTooManyChallenges) {
		t.Errorf("err = %v, want ErrTooManyChallenges", err)
	}
	if n := lines.Load(); n > sasl.MaxChallenges+2 {
		t.Errorf("the server got %d AUTH lines", n)
	}
}

// TestSMTPStalledHandshake: a server that stops answering after EHLO is
// given up after the timeout instead of holding the poll for ever.
func TestSMTPStalledHandshake(t *testing.T) {
	host := hostileSMTP(t, true, new(atomic.Int64))
	s := newTestSMTP(t, SMTPOptions{Hosts: []string{host}, AuthUser: "fm", AuthPassword: "s3cret", Timeout: time.Second})
	if err := beginGuarded(t, s); err == nil {
		t.Fatal("Begin succeeded against a stalled server")
	}
}

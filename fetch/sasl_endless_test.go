package fetch

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/internal/sasl"
)

// endlessSASL serves a POP3 (or IMAP) server that answers AUTH (or
// AUTHENTICATE) and then every line the client sends with another
// challenge, counting the lines it got during the exchange.
func endlessSASL(t *testing.T, imap bool, mechs, challenge string, lines *atomic.Int64) string {
	return slowSASL(t, imap, mechs, challenge, 0, lines)
}

// slowSASL is endlessSASL waiting delay before each challenge after the
// first.
func slowSASL(t *testing.T, imap bool, mechs, challenge string, delay time.Duration, lines *atomic.Int64) string {
	t.Helper()
	return serveLoopback(t, nil, func(c net.Conn) {
		defer c.Close()
		br := bufio.NewReader(c)
		if imap {
			fmt.Fprintf(c, "* OK [CAPABILITY IMAP4rev1 %s] endless\r\n", mechs)
		} else {
			fmt.Fprintf(c, "+OK endless\r\n")
		}
		inAuth := false
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			f := strings.Fields(line)
			switch {
			case inAuth:
				lines.Add(1)
				time.Sleep(delay)
				fmt.Fprintf(c, "+ %s\r\n", challenge)
			case len(f) == 0:
				return
			case !imap && strings.EqualFold(f[0], "CAPA"):
				fmt.Fprintf(c, "+OK\r\nSASL %s\r\n.\r\n", mechs)
			case !imap && strings.EqualFold(f[0], "AUTH"), imap && len(f) > 1 && strings.EqualFold(f[1], "AUTHENTICATE"):
				inAuth = true
				lines.Add(1)
				fmt.Fprintf(c, "+ %s\r\n", challenge)
			case imap && len(f) > 1 && strings.EqualFold(f[1], "LOGOUT"):
				fmt.Fprintf(c, "* BYE\r\n%s OK bye\r\n", f[0])
				return
			case imap && len(f) > 1:
				fmt.Fprintf(c, "%s BAD no\r\n", f[0])
			default:
				fmt.Fprintf(c, "-ERR no\r\n")
			}
		}
	})
}

// TestEndlessSASLChallenges: a server answering every line of an AUTH or
// AUTHENTICATE with another challenge ends the poll with exit 3
// (authentication failed) after a few rounds, for OAUTHBEARER and XOAUTH2
// over POP3 and IMAP (issue 14.3: it used to go on for ever).
func TestEndlessSASLChallenges(t *testing.T) {
	for _, c := range []struct {
		name, mechs, challenge string
		imap                   bool
	}{
		{"POP3 OAUTHBEARER", "OAUTHBEARER", "", false},
		{"POP3 XOAUTH2", "XOAUTH2", "", false},
		{"POP3 XOAUTH2 challenge", "XOAUTH2", "AQ==", false},
		{"IMAP OAUTHBEARER", "AUTH=OAUTHBEARER SASL-IR", "AQ==", true},
		{"IMAP XOAUTH2", "AUTH=XOAUTH2", "e30=", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var lines atomic.Int64
			addr := endlessSASL(t, c.imap, c.mechs, c.challenge, &lines)
			e := newTestEnv(t, nil, nil)
			e.job = testJob(t, addr)
			e.job.User.Maildir = &e.maildir
			e.job.Server.Timeout = 3
			e.job.Server.Auth = "oauthbearer"
			if c.imap {
				e.job.Server.Protocol = "IMAP"
			}
			res := e.pollGuarded(t)
			if res.Status != StatusAuthFail {
				t.Errorf("status %d (%v), want %d", res.Status, res.Err, StatusAuthFail)
			}
			// Two exchanges at most (XOAUTH2's one-step and two-step forms).
			if n := lines.Load(); n > 2*(sasl.MaxChallenges+2) {
				t.Errorf("the server got %d lines of SASL exchange", n)
			}
		})
	}
}

// TestSASLExchangeTimeout: the rc timeout bounds a POP3 AUTH exchange as a
// whole. Each challenge comes well within the timeout (0.7 s of 1 s), but
// three of them do not: the poll ends on the timeout, before the server
// could send the challenges that would trip the round limit.
func TestSASLExchangeTimeout(t *testing.T) {
	var lines atomic.Int64
	addr := slowSASL(t, false, "XOAUTH2", "", 700*time.Millisecond, &lines)
	e := newTestEnv(t, nil, nil)
	e.job = testJob(t, addr)
	e.job.User.Maildir = &e.maildir
	e.job.Server.Timeout = 1
	e.job.Server.Auth = "oauthbearer"
	res := e.pollGuarded(t)
	if res.Status != StatusSocket || !strings.Contains(fmt.Sprint(res.Err), "timeout") {
		t.Errorf("status %d (%v), want %d: a timeout of the whole exchange", res.Status, res.Err, StatusSocket)
	}
}

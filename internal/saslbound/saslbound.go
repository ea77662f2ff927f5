// Package saslbound limits a SASL exchange (RFC 4422 section 3) to a few
// challenges. No mechanism gofetchmail speaks needs more than two server
// challenges (LOGIN: user name, then password; CRAM-MD5: one; PLAIN,
// XOAUTH2, OAUTHBEARER: one error challenge at most), so a server that
// answers every response with another challenge ("+ " for ever) is hostile
// or broken: the exchange ends with ErrTooManyChallenges, the protocol
// client cancels it ("*"), and the poll ends with an authentication error.
// POP3 AUTH, IMAP AUTHENTICATE and SMTP AUTH all wrap their client with
// Bound; the time of the whole exchange is bounded by each protocol
// client's timeout (the rc `timeout`).
package saslbound

import (
	"errors"
	"fmt"

	"github.com/emersion/go-sasl"
)

// MaxChallenges is the number of server challenges answered in one
// exchange; the next one ends it.
const MaxChallenges = 4

// ErrTooManyChallenges is the cause when a server sent more than
// MaxChallenges challenges in one exchange.
var ErrTooManyChallenges = errors.New("the server kept sending SASL challenges")

// Bound returns c limited to MaxChallenges challenges.
func Bound(c sasl.Client) sasl.Client { return &bounded{c: c} }

type bounded struct {
	c sasl.Client
	n int
}

func (b *bounded) Start() (string, []byte, error) { return b.c.Start() }

func (b *bounded) Next(challenge []byte) ([]byte, error) {
	b.n++
	if b.n > MaxChallenges {
		return nil, fmt.Errorf("%w (more than %d); the login was abandoned", ErrTooManyChallenges, MaxChallenges)
	}
	return b.c.Next(challenge)
}

package sasl

import (
	"errors"
	"fmt"

	"github.com/gofetchmail/gofetchmail/internal/redact"
)

// MaxChallenges is the number of server challenges answered in one
// exchange; the next one ends it. No mechanism here needs more than two
// (LOGIN: user name, then password; CRAM-MD5: one; PLAIN, XOAUTH2,
// OAUTHBEARER: one error challenge at most).
const MaxChallenges = 4

// ErrTooManyChallenges is the cause when a server sent more than
// MaxChallenges challenges in one exchange (RFC 4422 section 3 sets no
// limit; a server that never ends the exchange is hostile or broken).
var ErrTooManyChallenges = errors.New("the server kept sending SASL challenges")

// Guard is c as POP3 AUTH, IMAP AUTHENTICATE and SMTP AUTH send it: its
// initial response and every answer to a challenge are added to set (all
// the forms a server may echo) before they are sent, and the exchange ends
// with ErrTooManyChallenges after MaxChallenges challenges, which the
// protocol client cancels ("*"). A nil set records nothing. The time of the
// whole exchange is bounded by each protocol client's timeout.
func Guard(c Client, set *redact.Set) Client { return &guarded{c: c, set: set} }

type guarded struct {
	c   Client
	set *redact.Set
	n   int
}

func (g *guarded) Start() (string, []byte, error) {
	mech, ir, err := g.c.Start()
	g.set.Response(ir)
	return mech, ir, err
}

func (g *guarded) Next(challenge []byte) ([]byte, error) {
	g.n++
	if g.n > MaxChallenges {
		return nil, fmt.Errorf("%w (more than %d); the login was abandoned", ErrTooManyChallenges, MaxChallenges)
	}
	resp, err := g.c.Next(challenge)
	g.set.Response(resp)
	return resp, err
}

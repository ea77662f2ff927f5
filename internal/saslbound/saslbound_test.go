package saslbound

import (
	"errors"
	"testing"
)

// endless answers every challenge, as XOAUTH2 and OAUTHBEARER do.
type endless struct{}

func (endless) Start() (string, []byte, error) { return "X", nil, nil }
func (endless) Next(c []byte) ([]byte, error)  { return []byte{1}, nil }

func TestBoundEndsEndlessExchange(t *testing.T) {
	c := Bound(endless{})
	for i := 0; i < MaxChallenges; i++ {
		if _, err := c.Next(nil); err != nil {
			t.Fatalf("challenge %d: %v", i+1, err)
		}
	}
	if _, err := c.Next(nil); !errors.Is(err, ErrTooManyChallenges) {
		t.Fatalf("challenge %d: err = %v", MaxChallenges+1, err)
	}
}

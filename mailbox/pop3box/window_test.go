package pop3box

import (
	"testing"

	"github.com/gofetchmail/gofetchmail/mailbox"
)

// TestRetrWindow: about 1 MiB of messages in flight, 16 to 128 RETRs.
func TestRetrWindow(t *testing.T) {
	sized := func(n int, size int64) []mailbox.Message {
		ms := make([]mailbox.Message, n)
		for i := range ms {
			ms[i].Size = size
		}
		return ms
	}
	for _, c := range []struct {
		want []mailbox.Message
		n    int
	}{
		{sized(2000, 4096), 128},
		{sized(10, 16384), 64},
		{sized(200, 1<<20), 16},
		{sized(1, 100<<20), 16},
		{sized(5, 0), 128}, // sizes unknown
		{nil, 128},
	} {
		if got := retrWindowFor(c.want); got != c.n {
			t.Errorf("%d messages: window %d, want %d", len(c.want), got, c.n)
		}
	}
}

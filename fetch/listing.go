package fetch

import (
	"context"
	"errors"

	"github.com/gofetchmail/gofetchmail/pop3"
)

// sizeMessages fills in the sizes of msgs (the messages this poll may
// fetch) out of count on the server. Only fresh messages need a size (for
// limit, the progress line and the endless-message cap). When they are few
// next to the mailbox, as in a large mailbox kept on the server, one
// pipelined "LIST n" each is much less work for both sides than a LIST of
// every message; otherwise one LIST does it.
func (s *session) sizeMessages(ctx context.Context, msgs []message, count int) error {
	if len(msgs) == 0 {
		return nil
	}
	var sizes []pop3.Size
	var err error
	if len(msgs)*8 < count {
		nums := make([]int, len(msgs))
		for i, m := range msgs {
			nums[i] = m.num
		}
		sizes, err = s.client.ListMany(ctx, nums, s.window())
		var perr *pop3.Error
		if errors.As(err, &perr) {
			// A message the server cannot size (it vanished under
			// another session): fetched without a size, as with no
			// LIST at all; RETR will tell.
			s.opts.logger().Debug("LIST refused for a message", "err", err)
			err = nil
		}
	} else {
		sizes, err = s.client.List(ctx)
	}
	if err != nil {
		return err
	}
	at := make(map[int]int, len(msgs))
	for i, m := range msgs {
		at[m.num] = i
	}
	for _, x := range sizes {
		if i, ok := at[x.Num]; ok {
			msgs[i].size = x.Size
		}
	}
	return nil
}

package pop3box

import (
	"fmt"

	"github.com/gofetchmail/gofetchmail/mailbox"
)

// -v -v (Config.Debug): fetchmail's second -v shows the UID lists and what
// each listed message is taken for.

// debugUIDListMax caps the UIDs -v -v lists by name; the rest are counted.
const debugUIDListMax = 100

// debugf logs one -v -v line.
func (b *Box) debugf(format string, args ...any) {
	if b.Debug {
		b.Log.Debug(fmt.Sprintf(format, args...))
	}
}

// debugUIDs shows, as fetchmail's -v -v does, the UIDs the idfile knows
// for the account and what each listed message is taken for. Only the
// messages to fetch (fresh) have been sized.
func (b *Box) debugUIDs(msgs, old, fresh []mailbox.Message) {
	if !b.Debug {
		return
	}
	b.debugf("UID list for %s: %d UIDs of messages on the server are known", b.Key, b.UIDs.Len(b.Key))
	seen := make(map[mailbox.Num]bool, len(old))
	for _, m := range old {
		seen[m.Num] = true
	}
	size := make(map[mailbox.Num]int64, len(fresh))
	for _, m := range fresh {
		size[m.Num] = m.Size
	}
	for i, m := range msgs {
		if i == debugUIDListMax {
			b.debugf("... and %d more messages", len(msgs)-i)
			break
		}
		uid := mailbox.ShownUID(m.Entry)
		if n, ok := size[m.Num]; ok {
			b.debugf("%d is unseen (UID %s, %d octets)", m.Num, uid, n)
		} else if seen[m.Num] {
			b.debugf("%d is seen (UID %s)", m.Num, uid)
		} else {
			b.debugf("%d was handled by an earlier session of this poll (UID %s)", m.Num, uid)
		}
	}
}

// debugQuit shows the UID list the poll leaves for the account.
func (b *Box) debugQuit(forgotten int) {
	b.debugf("new UID list for %s: %d UIDs kept, %d of deleted messages forgotten", b.Key, b.UIDs.Len(b.Key), forgotten)
}

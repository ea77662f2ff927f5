package bounce

import (
	"fmt"
	"strings"
)

// OversizedBody is fetchmail's oversized-messages warning text for the
// account remote at server: the sizes of the messages grouped, in the
// order first seen; deleted says they were deleted (limitflush), not left
// on the server.
func OversizedBody(server, remote string, deleted bool, sizes []int64) string {
	verb, where := "skipped", "remain on"
	if deleted {
		verb, where = "deleted", "were deleted on"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "The following oversized messages %s server %s account %s:\n\n", where, server, remote)
	count := map[int64]int{}
	var order []int64
	for _, size := range sizes {
		if count[size] == 0 {
			order = append(order, size)
		}
		count[size]++
	}
	for _, size := range order {
		if n := count[size]; n == 1 {
			fmt.Fprintf(&b, "  %d message  %d octets long %s by fetchmail.\n", n, size, verb)
		} else {
			fmt.Fprintf(&b, "  %d messages %d octets long %s by fetchmail.\n", n, size, verb)
		}
	}
	b.WriteString("\n")
	return b.String()
}

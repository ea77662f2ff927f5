package fetch

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
)

// TestPollSizesOnlyNewMessages: with most of a kept mailbox already seen,
// a poll asks the size of the new messages only (pipelined LIST n), and
// the sizes it gets still drive limit.
func TestPollSizesOnlyNewMessages(t *testing.T) {
	msgs := testMessages(40)
	big := []byte("Subject: big\n\n" + strings.Repeat("x", 5000) + "\n")
	msgs[38].Data = big // uid-0039, new and over the limit below
	var mu sync.Mutex
	var cmds []string
	e := newTestEnv(t, msgs, &pop3test.ServerOptions{Hook: func(cmd string) (string, bool) {
		mu.Lock()
		cmds = append(cmds, cmd)
		mu.Unlock()
		return "", false
	}})
	e.job.User.Keep = true
	e.job.User.Limit = 1000
	for i := 1; i <= 37; i++ {
		e.uids.Add(e.uidsKey(), fmt.Sprintf("uid-%04d", i))
	}
	res := e.poll(t)
	if res.Err != nil || res.Delivered != 2 || res.Skipped != 1 {
		t.Fatalf("result %+v, want 2 delivered (38 and 40) and 1 oversized (39)", res)
	}
	mu.Lock()
	var lists []string
	for _, c := range cmds {
		if strings.HasPrefix(c, "LIST") {
			lists = append(lists, c)
		}
	}
	mu.Unlock()
	if strings.Join(lists, ",") != "LIST 38,LIST 39,LIST 40" {
		t.Errorf("LIST commands %q, want LIST 38, 39 and 40 only", lists)
	}
	// With most messages new, one LIST does.
	e2 := newTestEnv(t, testMessages(5), &pop3test.ServerOptions{Hook: func(cmd string) (string, bool) {
		mu.Lock()
		cmds = append(cmds, "2:"+cmd)
		mu.Unlock()
		return "", false
	}})
	res = e2.poll(t)
	if res.Delivered != 5 {
		t.Fatalf("second mailbox: %+v", res)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(strings.Join(cmds, ","), "2:LIST,") {
		t.Errorf("a mostly new mailbox was not sized with one LIST: %q", cmds)
	}
}

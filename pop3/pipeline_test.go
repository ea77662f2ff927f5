package pop3_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/gofetchmail/gofetchmail/pop3"
	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
)

// traceLog records the protocol trace.
type traceLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *traceLog) add(dir byte, line string) {
	l.mu.Lock()
	l.lines = append(l.lines, string(dir)+line)
	l.mu.Unlock()
}

func TestRetrPipeline(t *testing.T) {
	// Not over net.Pipe: it has no buffer at all, so a client writing its
	// next batch while the server writes a reply blocks both, a deadlock
	// that socket buffers (TCP, an SSH channel window) rule out for
	// command batches of a few hundred bytes.
	for _, tr := range []string{"tcp"} {
		t.Run(tr, func(t *testing.T) {
			mb := pop3test.NewMailbox(user, pass, fixtures...)
			s := newServer(t, mb, nil)
			var tl traceLog
			c := connect(t, s, tr, &pop3.Options{Timeout: generous, Trace: tl.add})
			login(t, c)
			ctx := context.Background()
			nums := []int{1, 2, 99, 3, 4, 5, 6, 7} // 99 does not exist
			p := c.RetrPipeline(ctx, nums, 4)
			want := []int{1, 2, 3, 4, 5, 6, 7}
			var got []int
			for {
				n, r, err := p.Next()
				var perr *pop3.Error
				if errors.As(err, &perr) {
					if n != 99 {
						t.Errorf("-ERR for message %d, want for 99", n)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if r == nil {
					break
				}
				data, err := io.ReadAll(r)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(data, expected(fixtures[n-1].Data)) {
					t.Errorf("message %d not byte-exact", n)
				}
				got = append(got, n)
			}
			if len(got) != len(want) {
				t.Fatalf("got messages %v, want %v", got, want)
			}
			// Commands went out in batches: four RETRs before the first reply.
			tl.mu.Lock()
			seq := strings.Join(tl.lines, "|")
			tl.mu.Unlock()
			if !strings.Contains(seq, ">RETR 1|>RETR 2|>RETR 99|>RETR 3|<") {
				t.Errorf("RETR commands were not pipelined:\n%s", seq)
			}
			if err := c.DeleMany(ctx, []int{1, 2, 3}, 2); err != nil {
				t.Fatal(err)
			}
			if err := c.DeleMany(ctx, []int{4, 99}, 8); err == nil {
				t.Error("DELE 99 should fail")
			}
			if err := c.Quit(ctx); err != nil {
				t.Fatal(err)
			}
			if left := mb.Messages(); len(left) != 3 {
				t.Errorf("%d messages left after deleting 4, want 3", len(left))
			}
		})
	}
}

// Close reads what is still owed, so the session goes on after an early stop.
func TestRetrPipelineClose(t *testing.T) {
	mb := pop3test.NewMailbox(user, pass, fixtures...)
	s := newServer(t, mb, nil)
	c := connect(t, s, "tcp", nil)
	login(t, c)
	ctx := context.Background()
	p := c.RetrPipeline(ctx, []int{1, 2, 3, 4, 5}, 3)
	_, r, err := p.Next()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.Next(); err == nil {
		t.Error("Next with the previous reader open must fail")
	}
	r.Close()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if n, _, err := c.Stat(ctx); err != nil || n != len(fixtures) {
		t.Errorf("STAT after Close = %d, %v", n, err)
	}
}

func TestListMany(t *testing.T) {
	mb := pop3test.NewMailbox(user, pass, fixtures...)
	s := newServer(t, mb, nil)
	var tl traceLog
	c := connect(t, s, "tcp", &pop3.Options{Timeout: generous, Trace: tl.add})
	login(t, c)
	ctx := context.Background()
	all, err := c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]int64{}
	for _, x := range all {
		want[x.Num] = x.Size
	}
	got, err := c.ListMany(ctx, []int{3, 99, 1}, 2) // 99 does not exist
	var perr *pop3.Error
	if !errors.As(err, &perr) {
		t.Fatalf("ListMany with a missing message: err %v, want *pop3.Error", err)
	}
	if len(got) != 2 || got[0].Num != 3 || got[1].Num != 1 || got[0].Size != want[3] || got[1].Size != want[1] {
		t.Fatalf("ListMany = %+v, want sizes of 3 and 1 from %v", got, want)
	}
	tl.mu.Lock()
	seq := strings.Join(tl.lines, "|")
	tl.mu.Unlock()
	if !strings.Contains(seq, ">LIST 3|>LIST 99|<") {
		t.Errorf("LIST commands were not pipelined:\n%s", seq)
	}
	// The session is still in step after the -ERR.
	if n, err := c.ListOne(ctx, 2); err != nil || n != want[2] {
		t.Fatalf("ListOne(2) after ListMany = %d, %v; want %d", n, err, want[2])
	}
}

//go:build interop

package interop

import (
	"fmt"
	"math/rand"
	"path/filepath"
	"testing"
)

// TestProxyCutsIMAP is TestProxyCutsPOP3 for IMAP: the connection to
// dovecot's IMAP is cut at seeded random byte offsets (both directions),
// then a normal run finishes; every message exactly once, none left (or,
// with keep, all left and none fetched twice). INTEROP_FAULT_SEED picks the
// offsets (default 1).
func TestProxyCutsIMAP(t *testing.T) {
	fseed := envInt("INTEROP_FAULT_SEED", 1)
	rng := rand.New(rand.NewSource(int64(fseed)))
	const n = 30
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	p := newCutProxy(t, "127.0.0.1:"+rig["RIG_IMAP_PORT"])
	rcs := map[bool]string{
		false: h.rcAt(t, "rc-delete", ownPid(h, imapRC(p.port(), "sslproto ''"))),
		true:  h.rcAt(t, "rc-keep", ownPid(h, imapRC(p.port(), "sslproto '' keep"))),
	}

	fill(t, n)
	md := filepath.Join(h.dir, "Maildir-calibration")
	expectExit(t, h.runArgs(t, "-f", rcs[false], "--maildir", md), 0)
	verify(t, md, n)
	down, up := p.down.Load(), p.sent.Load()
	t.Logf("an uninterrupted IMAP session of %d messages: %d bytes from the server, %d to it", n, down, up)

	type cut struct {
		at int64
		up bool
	}
	cuts := []cut{{0, false}, {1, false}, {down - 3, false}, {0, true}, {up - 2, true}}
	for i := 0; i < 10; i++ {
		cuts = append(cuts, cut{down/20 + rng.Int63n(down*9/10), false})
	}
	for i := 0; i < 4; i++ {
		cuts = append(cuts, cut{rng.Int63n(up), true})
	}
	var st faultStats
	for i, c := range cuts {
		keep := i%2 == 1
		fill(t, n)
		md := filepath.Join(h.dir, fmt.Sprintf("Maildir-%02d", i))
		before := p.cuts.Load()
		p.reset(c.at, c.up)
		r := h.runArgs(t, "-f", rcs[keep], "--maildir", md)
		noCrash(t, r)
		cutNow := p.cuts.Load() > before
		if cutNow {
			st.faults++
		}
		got := checkNoLoss(t, md, n)
		p.reset(-1, false)
		r2 := h.runArgs(t, "-f", rcs[keep], "--maildir", md)
		if r2.code != 0 && r2.code != 1 {
			t.Fatalf("cut %d at %d: the run after the cut: %v", i, c.at, r2)
		}
		verify(t, md, n)
		if keep {
			serverHolds(t, n)
			if r3 := h.runArgs(t, "-f", rcs[keep], "--maildir", md); r3.code != 1 {
				t.Errorf("cut %d: a third keep run: %v, want exit 1 (nothing new)", i, r3)
			}
		} else {
			serverHolds(t, 0)
		}
		st.runs += 2
		st.messages += n
		t.Logf("cut %2d at byte %6d %s keep %v: cut %v, exit %d, %d delivered before the cut", i, c.at,
			map[bool]string{true: "client->server", false: "server->client"}[c.up], keep, cutNow, r.code, got)
		if t.Failed() {
			t.Fatalf("cut %d at %d (seed %d) failed", i, c.at, fseed)
		}
	}
	if st.faults < len(cuts)-2 {
		t.Errorf("only %d of %d cuts happened", st.faults, len(cuts))
	}
	st.log(t, "IMAP connection cuts", fseed)
}

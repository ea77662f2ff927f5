//go:build interop

package interop

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestKillLosesNothing kills gofetchmail with SIGKILL at random moments of
// fetches over the SSH channel. Each round fills the server with fresh
// messages, kills up to three runs, then lets runs finish: every message of
// the round must be in that round's maildir exactly once (no loss, no
// duplicate) and none left on the server.
// INTEROP_KILL_SEED picks the schedule (default 1), INTEROP_KILL_ROUNDS the
// number of rounds (default 20, three kills each).
func TestKillLosesNothing(t *testing.T) {
	killSeed := envInt("INTEROP_KILL_SEED", 1)
	rounds := envInt("INTEROP_KILL_ROUNDS", 20)
	rng := rand.New(rand.NewSource(int64(killSeed)))
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	rc := h.rc(t, seed("foobar"))
	const n = 200

	// Calibrate: how long does an uninterrupted fetch of n messages take
	// here? Kills are spread over that span, plus some.
	fill(t, n)
	start := time.Now()
	expectExit(t, h.runArgs(t, "-f", rc, "--maildir", filepath.Join(h.dir, "Maildir-calibration")), 0)
	span := time.Since(start) * 5 / 4
	t.Logf("an uninterrupted fetch of %d messages took %v; kills land within %v", n, span*4/5, span)

	kills := 0
	for round := 0; round < rounds; round++ {
		fill(t, n)
		md := filepath.Join(h.dir, fmt.Sprintf("Maildir-%02d", round))
		for k := 0; k < 3; k++ {
			delay := time.Duration(rng.Int63n(int64(span)))
			cmd := exec.Command(binary, "-f", rc, "--maildir", md)
			cmd.Dir = h.dir
			cmd.Env = h.env()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-time.After(delay):
				cmd.Process.Signal(syscall.SIGKILL)
				if err := <-done; err != nil {
					kills++ // killed, not finished first
				}
			case <-done:
			}
		}
		for i := 0; i < 3; i++ {
			r := h.runArgs(t, "-f", rc, "--maildir", md)
			if r.code == 1 {
				break
			}
			if r.code != 0 {
				t.Fatalf("round %d: run after the kills: %v", round, r)
			}
		}
		verify(t, md, n)
		serverHolds(t, 0)
		if t.Failed() {
			t.Fatalf("round %d of seed %d failed", round, killSeed)
		}
	}
	t.Logf("seed %d: %d rounds of %d messages, %d runs killed with SIGKILL, 0 lost, 0 duplicated", killSeed, rounds, n, kills)
	if kills < rounds {
		t.Errorf("only %d kills landed during a fetch: the schedule does not exercise the fetch", kills)
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

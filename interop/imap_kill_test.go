//go:build interop

package interop

import (
	"fmt"
	"math/rand"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestIMAPKillLosesNothing is TestKillLosesNothing for IMAP: SIGKILL at
// random moments of IMAP fetches, rounds alternating between deleting and
// keep. After the killed runs, runs that finish must leave every message
// of the round in the round's maildir exactly once, and the server empty
// (or, with keep, full). INTEROP_KILL_SEED picks the schedule (default 1),
// INTEROP_IMAP_KILL_ROUNDS the number of rounds (default 8).
func TestIMAPKillLosesNothing(t *testing.T) {
	killSeed := envInt("INTEROP_KILL_SEED", 1)
	rounds := envInt("INTEROP_IMAP_KILL_ROUNDS", 8)
	rng := rand.New(rand.NewSource(int64(killSeed)))
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	rcs := []string{
		h.rcAt(t, "rc-delete", ownPid(h, imapRC(rig["RIG_IMAP_PORT"], "sslproto ''"))),
		h.rcAt(t, "rc-keep", ownPid(h, imapRC(rig["RIG_IMAP_PORT"], "sslproto '' keep"))),
	}
	const n = 200

	fill(t, n)
	start := time.Now()
	expectExit(t, h.runArgs(t, "-f", rcs[0], "--maildir", filepath.Join(h.dir, "Maildir-calibration")), 0)
	span := time.Since(start) * 5 / 4
	t.Logf("an uninterrupted IMAP fetch of %d messages took %v; kills land within %v", n, span*4/5, span)

	kills := 0
	for round := 0; round < rounds; round++ {
		keep := round%2 == 1
		rc := rcs[round%2]
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
					kills++
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
		if keep {
			serverHolds(t, n)
		} else {
			serverHolds(t, 0)
		}
		if t.Failed() {
			t.Fatalf("round %d (keep %v) of seed %d failed", round, keep, killSeed)
		}
	}
	t.Logf("seed %d: %d rounds of %d messages, %d runs killed with SIGKILL, 0 lost, 0 duplicated", killSeed, rounds, n, kills)
	if kills < rounds {
		t.Errorf("only %d kills landed during a fetch: the schedule does not exercise the fetch", kills)
	}
}

// rcAt writes text as the rc file name (mode 0600) in h and returns its
// path.
func (h home) rcAt(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(h.dir, name)
	writeFile(t, path, text, 0o600)
	return path
}

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

	"github.com/gofetchmail/gofetchmail/interop/internal/rigmail"
)

// TestKillLosesNothing kills gofetchmail with SIGKILL at random moments of
// POP3 fetches over the SSH channel. INTEROP_KILL_SEED picks the schedule
// (default 1), INTEROP_KILL_ROUNDS the number of rounds (default 20, three
// kills each).
func TestKillLosesNothing(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	rc := h.rc(t, seed("foobar"))
	killRounds(t, h, "POP3", "maildir", envInt("INTEROP_KILL_ROUNDS", 20), func(int) (string, bool) { return rc, false })
}

// TestMboxKillLosesNothing is TestKillLosesNothing delivering into an mbox:
// read back with Python's mailbox module, every message must be there
// exactly once and whole, whatever moment the kills hit (a batch appended
// but not yet recorded, a message half written).
// INTEROP_MBOX_KILL_ROUNDS sets the number of rounds (default 8).
func TestMboxKillLosesNothing(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	rc := h.rc(t, seed("foobar"))
	killRounds(t, h, "POP3", "mbox", envInt("INTEROP_MBOX_KILL_ROUNDS", 8), func(int) (string, bool) { return rc, false })
}

// TestIMAPKillLosesNothing is TestKillLosesNothing for IMAP, rounds
// alternating between deleting and keep. INTEROP_IMAP_KILL_ROUNDS sets the
// number of rounds (default 8).
func TestIMAPKillLosesNothing(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	rcs := []string{
		h.rcAt(t, "rc-delete", ownPid(h, imapRC(rig["RIG_IMAP_PORT"], "sslproto ''"))),
		h.rcAt(t, "rc-keep", ownPid(h, imapRC(rig["RIG_IMAP_PORT"], "sslproto '' keep"))),
	}
	killRounds(t, h, "IMAP", "maildir", envInt("INTEROP_IMAP_KILL_ROUNDS", 8), func(round int) (string, bool) {
		return rcs[round%2], round%2 == 1
	})
}

// killRounds runs the kill schedule of INTEROP_KILL_SEED: each round fills
// the server with fresh messages, kills up to three runs of the rc file
// rcFor gives at random moments, then lets runs finish. Every message of
// the round must then be in that round's maildir or mbox (target) exactly
// once (no loss, no duplicate), and the server must be empty, or still
// full with keep.
// With keepdays, a run killed between the idfile and the dates file, or a
// batch recovered from its journal, leaves recorded UIDs without a date:
// their clock starts at the next poll (never deleted early, see
// fetch/keepdays.go), so the poll after that deletes them. keepdaysSettle
// allows that one more poll, which must deliver nothing; the other
// schedules end with the server as the runs left it.
func killRounds(t *testing.T, h home, proto, target string, rounds int, rcFor func(round int) (rc string, keep bool), keepdaysSettle ...bool) {
	t.Helper()
	killSeed := envInt("INTEROP_KILL_SEED", 1)
	rng := rand.New(rand.NewSource(int64(killSeed)))
	const n = 200

	// Calibrate: how long does an uninterrupted fetch of n messages take
	// here? Kills are spread over that span, plus some. The shortest of
	// three runs: one slow run (a cold cache, a busy machine) would spread
	// the kills past the end of most fetches.
	rc, _ := rcFor(0)
	var span time.Duration
	for i := 0; i < 3; i++ {
		fill(t, n)
		start := time.Now()
		expectExit(t, h.runArgs(t, "-f", rc, "--"+target, filepath.Join(h.dir, fmt.Sprintf("%s-calibration-%d", target, i))), 0)
		if d := time.Since(start); i == 0 || d < span {
			span = d
		}
		if _, keep := rcFor(0); keep {
			break // the messages stay: the next fill would add to them
		}
	}
	span = span * 5 / 4
	t.Logf("an uninterrupted %s fetch of %d messages took %v; kills land within %v", proto, n, span*4/5, span)

	kills := 0
	for round := 0; round < rounds; round++ {
		rc, keep := rcFor(round)
		fill(t, n)
		dest := filepath.Join(h.dir, fmt.Sprintf("%s-%02d", target, round))
		for k := 0; k < 3; k++ {
			if killRun(t, h, rc, "--"+target, dest, time.Duration(rng.Int63n(int64(span)))) {
				kills++
			}
		}
		for i := 0; i < 3; i++ {
			r := h.runArgs(t, "-f", rc, "--"+target, dest)
			if r.code == 1 {
				break
			}
			if r.code != 0 {
				t.Fatalf("round %d: run after the kills: %v", round, r)
			}
		}
		if len(keepdaysSettle) > 0 && keepdaysSettle[0] && !keep {
			if n, err := rigmail.Count(rig["RIG_MAILDIR"]); err == nil && n > 0 {
				t.Logf("round %d: %d recorded messages dated only by the last poll; one more poll deletes them", round, n)
				expectExit(t, h.runArgs(t, "-f", rc, "--"+target, dest), 1)
			}
		}
		md := dest
		if target == "mbox" {
			md = dest + "-read"
			out, err := exec.Command("python3", "-c", pyMboxToMaildir, dest, md).CombinedOutput()
			if err != nil {
				t.Fatalf("round %d: python mailbox: %v\n%s", round, err, out)
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

// killRun starts a fetch into dest (flag --maildir or --mbox) and sends it
// SIGKILL after delay. It reports whether the kill landed before the run
// finished by itself.
func killRun(t *testing.T, h home, rc, flag, dest string, delay time.Duration) bool {
	t.Helper()
	cmd := exec.Command(binary, "-f", rc, flag, dest)
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
		return <-done != nil
	case <-done:
		return false
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

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

// TestSMTPKillLosesNothing is the SIGKILL schedule forwarding by SMTP to
// the rig's postfix. What postfix accepted before a kill is recorded by
// the next run (the delivered journal), so nothing comes twice except, at
// most, the one message a kill caught between sending its final "." and
// reading postfix's 250 (RFC 1047's window, which no SMTP client closes);
// nothing is lost. INTEROP_SMTP_KILL_ROUNDS sets the rounds (default 8).
func TestSMTPKillLosesNothing(t *testing.T) {
	port := mta(t)
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	rc := h.rc(t, fmt.Sprintf(`poll 127.0.0.1 with protocol pop3 and port %s
  user msingh there is msingh here password foobar sslproto ''
  smtphost 127.0.0.1/%s
`, rig["RIG_POP3_PORT"], port))
	rng := rand.New(rand.NewSource(int64(envInt("INTEROP_KILL_SEED", 1))))
	const n = 100

	fill(t, n)
	start := time.Now()
	expectExit(t, h.runArgs(t, "-f", rc, "--smtpaddress", "rig.example"), 0)
	span := time.Since(start) * 5 / 4
	mtaDelivered(t, n)
	kills, dups := 0, 0
	rounds := envInt("INTEROP_SMTP_KILL_ROUNDS", 8)
	for round := 0; round < rounds; round++ {
		mta(t) // empties postfix's maildir
		fill(t, n)
		landed := 0
		for k := 0; k < 3; k++ {
			if killRun(t, h, rc, "--smtpaddress", "rig.example", time.Duration(rng.Int63n(int64(span)))) {
				landed++
			}
		}
		kills += landed
		for i := 0; i < 3; i++ {
			r := h.runArgs(t, "-f", rc, "--smtpaddress", "rig.example")
			if r.code == 1 {
				break
			}
			if r.code != 0 {
				t.Fatalf("round %d: run after the kills: %v", round, r)
			}
		}
		r := mtaSettled(t, n)
		if r.Missing != 0 || r.Unexpected != 0 || r.Duplicated > landed {
			t.Errorf("round %d: %v after %d kills; at most one duplicate a kill allowed", round, r, landed)
			for _, p := range r.Problems {
				t.Log(p)
			}
		}
		dups += r.Duplicated
		serverHolds(t, 0)
		if t.Failed() {
			t.Fatalf("round %d failed", round)
		}
	}
	t.Logf("%d rounds of %d messages through postfix, %d runs killed with SIGKILL, 0 lost, %d duplicated (a kill inside RFC 1047's window)", rounds, n, kills, dups)
	// A round's first run usually fetches everything; the later ones,
	// with nothing left, finish before their kill: about one kill a round
	// lands, so ask for half as many.
	if kills < rounds/2 {
		t.Errorf("only %d kills landed during a fetch: the schedule does not exercise the fetch", kills)
	}
}

// mtaSettled waits until postfix's maildir holds at least n messages and
// nothing more arrives for a second, and verifies what gofetchmail sent
// against the originals.
func mtaSettled(t *testing.T, n int) rigmail.Report {
	t.Helper()
	msgs := mtaDeliveredAtLeast(t, -1, n)
	for {
		time.Sleep(time.Second)
		again := mtaDeliveredAtLeast(t, -1, len(msgs))
		if len(again) == len(msgs) {
			break
		}
		msgs = again
	}
	dst := filepath.Join(t.TempDir(), "Maildir")
	for _, sub := range []string{"new", "cur", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dst, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range msgs {
		writeFile(t, filepath.Join(dst, "new", m.name), string(m.rest), 0o600)
	}
	r, err := rigmail.Verify(dst, rig["RIG_ORIGINALS"])
	if err != nil {
		t.Fatal(err)
	}
	return r
}

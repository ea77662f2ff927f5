//go:build interop

package interop

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/fetch"
	"github.com/gofetchmail/gofetchmail/rcparse"
)

// TestKeepdaysDovecot runs keepdays against the rig's dovecot, POP3 and
// IMAP alike, through the engine with an injected clock (fetch.Options.Now):
// kept messages stay until the first poll N days after their delivery, a
// clock set back restarts their days (never deletes early) and is logged,
// and every message is delivered exactly once.
func TestKeepdaysDovecot(t *testing.T) {
	for _, proto := range []string{"pop3", "imap"} {
		t.Run(proto, func(t *testing.T) {
			const n = 4
			fill(t, n)
			dir := t.TempDir()
			md := filepath.Join(dir, "Maildir")
			port := rig["RIG_POP3_PORT"]
			if proto == "imap" {
				port = rig["RIG_IMAP_PORT"]
			}
			src := fmt.Sprintf("poll 127.0.0.1 proto %s port %s timeout 20\n  user msingh there is manish here password foobar sslproto '' no rewrite keep keepdays 3\n", proto, port)
			cfg, _, err := rcparse.Parse(filepath.Join(dir, "rc"), []byte(src), rcparse.Options{User: "tester", Home: dir})
			if err != nil {
				t.Fatal(err)
			}
			job := fetch.Job{Config: cfg, Server: cfg.Servers[0], User: cfg.Servers[0].Users[0]}
			job.User.Maildir = &md
			t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
			steps := []struct {
				at                 time.Duration
				delivered, deleted int
				onServer           int
				log                string
			}{
				{0, n, 0, n, "keepdays 3: 0 kept messages"},
				{3*24*time.Hour - time.Minute, 0, 0, n, ""},
				// The clock set back a day: the dates are in its future.
				{-24 * time.Hour, 0, 0, n, "it was set back"},
				{2*24*time.Hour - time.Minute, 0, 0, n, ""},
				{2 * 24 * time.Hour, 0, n, 0, fmt.Sprintf("keepdays 3: %d kept messages of msingh@127.0.0.1 past their days, %d deleted", n, n)},
			}
			for i, st := range steps {
				var log bytes.Buffer
				now := t0.Add(st.at)
				opts := fetch.Options{
					Logger:   slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})),
					Version:  "interop",
					Hostname: "desk.example.net",
					Now:      func() time.Time { return now },
				}
				uids, err := fetch.LoadUIDStore(filepath.Join(dir, ".fetchids"))
				if err != nil {
					t.Fatal(err)
				}
				r := fetch.NewRunner(opts)
				res := r.Run(context.Background(), []fetch.Job{job}, uids)[0]
				r.Close()
				if res.Err != nil || res.Delivered != st.delivered || res.Deleted != st.deleted {
					t.Fatalf("step %d: delivered %d deleted %d err %v, want %d %d\n%s", i+1, res.Delivered, res.Deleted, res.Err, st.delivered, st.deleted, log.String())
				}
				serverHolds(t, st.onServer)
				if st.log != "" && !strings.Contains(log.String(), st.log) {
					t.Errorf("step %d: the log lacks %q:\n%s", i+1, st.log, log.String())
				}
			}
			verify(t, md, n)
		})
	}
}

// TestKeepdaysBinary runs the program with the real clock: keepdays 0
// deletes the kept messages at the next poll and -v says how many; -k on
// the command line keeps them all.
func TestKeepdaysBinary(t *testing.T) {
	const n = 5
	fill(t, n)
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	rc := h.rcAt(t, "rc", ownPid(h, directRC("foobar", "keep keepdays 0")))
	md := filepath.Join(h.dir, "Maildir")
	expectExit(t, h.runArgs(t, "-f", rc, "--maildir", md), 0)
	serverHolds(t, n)
	expectExit(t, h.runArgs(t, "-f", rc, "--maildir", md, "-k"), 1)
	serverHolds(t, n)
	r := h.runArgs(t, "-f", rc, "--maildir", md, "-v")
	expectExit(t, r, 1)
	serverHolds(t, 0)
	if want := fmt.Sprintf("keepdays 0: %d kept messages of msingh@127.0.0.1 past their days, %d deleted", n, n); !strings.Contains(r.stdout+r.stderr, want) {
		t.Errorf("-v does not say %q:\n%v", want, r)
	}
	verify(t, md, n)
}

// TestKeepdaysKillLosesNothing is the SIGKILL schedule with keep keepdays
// 0, rounds alternating between POP3 over the SSH channel and IMAP: a
// message killed before its batch was recorded must be delivered by a
// later run, never deleted by keepdays. Each round ends with the server
// empty (every message delivered, then deleted by the next poll; a UID
// recorded without its date by a killed run is deleted one poll later).
// INTEROP_KEEPDAYS_KILL_ROUNDS sets the number of rounds (default 6).
func TestKeepdaysKillLosesNothing(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	rcs := []string{
		h.rcAt(t, "rc-pop3", fmt.Sprintf(seedRC, rig["RIG_POP3_PORT"], "foobar keep keepdays 0")),
		h.rcAt(t, "rc-imap", ownPid(h, imapRC(rig["RIG_IMAP_PORT"], "sslproto '' keep keepdays 0"))),
	}
	killRounds(t, h, "POP3 and IMAP, keepdays 0", "maildir", envInt("INTEROP_KEEPDAYS_KILL_ROUNDS", 6), func(round int) (string, bool) {
		return rcs[round%2], false
	}, true)
}

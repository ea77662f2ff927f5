//go:build interop

package interop

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestExpungeSessions runs "expunge 2" on 5 messages against dovecot: the
// poll is split into sessions of 2 retrieved messages, each ended by QUIT
// (so its deletions are final) and followed by a new login: three sessions,
// every message delivered once, none left on the server, exit 0. The real
// fetchmail runs the same entry and must make the same three sessions.
func TestExpungeSessions(t *testing.T) {
	progs := []struct{ name, path string }{{"gofetchmail", binary}}
	if fm := realFetchmail(); fm != "" {
		progs = append(progs, struct{ name, path string }{"fetchmail", fm})
	}
	for _, p := range progs {
		t.Run(p.name, func(t *testing.T) {
			r := newRetriever(t, p.name, p.path)
			r.rc(t, strings.ReplaceAll(rigRC("expunge 2"), "%PORT%", rig["RIG_POP3_PORT"]), 0o600)
			settledFill(t, 5)
			res := r.run(t, "-v")
			if res.code != 0 {
				t.Fatalf("%s exited %d, want 0\n%v", p.name, res.code, res)
			}
			out := res.stdout + res.stderr
			if n := strings.Count(out, "POP3> QUIT"); n != 3 {
				t.Errorf("%s sent QUIT %d times, want 3 sessions\n%v", p.name, n, res)
			}
			if n := strings.Count(out, "+OK Logged in."); n != 3 {
				t.Errorf("%s logged in %d times, want 3\n%v", p.name, n, res)
			}
			ids := deliveredIDs(t, r.maildir())
			if len(ids) != 5 {
				t.Errorf("%s delivered %d distinct messages, want 5: %v", p.name, len(ids), ids)
			}
			for id, n := range ids {
				if n != 1 {
					t.Errorf("%s delivered %s %d times", p.name, id, n)
				}
			}
			serverHolds(t, 0)
		})
	}
}

var messageIDRE = regexp.MustCompile(`(?mi)^Message-ID:\s*(\S+)`)

// deliveredIDs counts the delivered copies of each Message-ID in maildir.
func deliveredIDs(t *testing.T, maildir string) map[string]int {
	t.Helper()
	ids := map[string]int{}
	for _, sub := range []string{"new", "cur"} {
		names, err := filepath.Glob(filepath.Join(maildir, sub, "*"))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			data, err := os.ReadFile(n)
			if err != nil {
				t.Fatal(err)
			}
			m := messageIDRE.FindSubmatch(data)
			if m == nil {
				t.Errorf("%s has no Message-ID", n)
				continue
			}
			ids[string(m[1])]++
		}
	}
	return ids
}

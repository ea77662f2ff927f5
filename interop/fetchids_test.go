//go:build interop

package interop

import (
	"os"
	"sort"
	"strings"
	"testing"
)

// TestFetchidsRoundTrip shares one ~/.fetchids between the real fetchmail
// and gofetchmail on a keep entry against dovecot: what one fetched the
// other must not fetch again, in both directions, and the file keeps
// fetchmail's "user@host UID" lines.
func TestFetchidsRoundTrip(t *testing.T) {
	fm := realFetchmail()
	if fm == "" {
		t.Skip("no fetchmail installed")
	}
	gof := newRetriever(t, "gofetchmail", binary)
	real := newRetriever(t, "fetchmail", fm)
	rc := strings.ReplaceAll(rigRC("keep"), "%PORT%", rig["RIG_POP3_PORT"])
	gof.rc(t, rc, 0o600)
	real.rc(t, rc, 0o600)
	shared := real.idfile() // both use -i with this path
	runWith := func(r *retriever) result {
		t.Helper()
		return r.runRaw(t, "-f", r.dir+"/fetchmailrc", "-i", shared, "--pidfile", r.pidfile())
	}

	settledFill(t, 3)
	if res := runWith(real); res.code != 0 || real.delivered(t) != 3 {
		t.Fatalf("fetchmail first fetch: delivered %d\n%v", real.delivered(t), res)
	}
	first := idLines(t, shared)
	if len(first) != 3 {
		t.Fatalf("fetchmail's idfile holds %d lines, want 3: %q", len(first), first)
	}
	if res := runWith(gof); res.code != 1 || gof.delivered(t) != 0 {
		t.Fatalf("gofetchmail after fetchmail: exit %d, delivered %d, want 1 and 0\n%v", res.code, gof.delivered(t), res)
	}
	if got := idLines(t, shared); strings.Join(got, "\n") != strings.Join(first, "\n") {
		t.Errorf("gofetchmail changed the idfile without fetching:\n%q\nwas\n%q", got, first)
	}

	addMail(t, 2)
	if res := runWith(gof); res.code != 0 || gof.delivered(t) != 2 {
		t.Fatalf("gofetchmail on 2 new messages: exit %d, delivered %d\n%v", res.code, gof.delivered(t), res)
	}
	second := idLines(t, shared)
	if len(second) != 5 {
		t.Fatalf("idfile after gofetchmail holds %d lines, want 5: %q", len(second), second)
	}
	for _, l := range second {
		if f := strings.Fields(l); len(f) != 2 || f[0] != "msingh@127.0.0.1" {
			t.Errorf("idfile line %q is not fetchmail's 'msingh@127.0.0.1 UID'", l)
		}
	}
	if res := runWith(real); res.code != 1 || real.delivered(t) != 3 {
		t.Fatalf("fetchmail after gofetchmail: exit %d, delivered %d in all, want 1 and 3\n%v", res.code, real.delivered(t), res)
	}
	serverHolds(t, 5)
}

// idLines returns the idfile's lines, sorted.
func idLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	sort.Strings(lines)
	return lines
}

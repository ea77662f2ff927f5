//go:build interop

package interop

import (
	"strings"
	"testing"

	"github.com/gofetchmail/gofetchmail/interop/internal/rigmail"
)

// TestIMAPFetchidsWithFetchmail shares one idfile between gofetchmail's
// IMAP UID state and the real fetchmail (POP3 and IMAP entries of the same
// account): fetchmail must run normally and keep gofetchmail's folder lines
// verbatim, and gofetchmail must find its state intact afterwards.
func TestIMAPFetchidsWithFetchmail(t *testing.T) {
	fm := realFetchmail()
	if fm == "" {
		t.Skip("no fetchmail installed")
	}
	msgs := rigmail.Generate(5, 2048)
	fillFolders(t, map[string][]rigmail.Message{"INBOX": msgs[:3], "Shared": msgs[3:]})
	gof := newRetriever(t, "gofetchmail", binary)
	real := newRetriever(t, "fetchmail", fm)
	shared := real.idfile()
	imapEntry := `poll 127.0.0.1 with protocol imap and port ` + rig["RIG_IMAP_PORT"] + `
  user msingh there is manish here password foobar sslproto '' mda "%MDA%" keep folder Shared
`
	gof.rc(t, imapEntry, 0o600)
	runWith := func(r *retriever) result {
		t.Helper()
		return r.runRaw(t, "-f", r.dir+"/fetchmailrc", "-i", shared, "--pidfile", r.pidfile())
	}
	if res := runWith(gof); res.code != 0 || gof.delivered(t) != 2 {
		t.Fatalf("gofetchmail IMAP keep: delivered %d\n%v", gof.delivered(t), res)
	}
	ours := idLines(t, shared)
	if len(ours) != 3 || !strings.HasPrefix(ours[0], "msingh@127.0.0.1/Shared ") {
		t.Fatalf("gofetchmail's IMAP state: %q", ours)
	}

	// fetchmail: POP3 keep on INBOX, then its own IMAP keep on Shared
	// (nothing unseen there: gofetchmail marked it \Seen).
	real.rc(t, strings.ReplaceAll(rigRC("keep"), "%PORT%", rig["RIG_POP3_PORT"])+imapEntry, 0o600)
	res := runWith(real)
	if res.code != 0 || real.delivered(t) != 3 {
		t.Fatalf("fetchmail with gofetchmail's IMAP lines in its idfile: exit %d, delivered %d\n%v", res.code, real.delivered(t), res)
	}
	after := idLines(t, shared)
	if len(after) != 6 {
		t.Errorf("idfile after fetchmail: %q", after)
	}
	for _, l := range ours {
		if !strings.Contains(strings.Join(after, "\n")+"\n", l+"\n") {
			t.Errorf("fetchmail dropped or changed %q:\n%q", l, after)
		}
	}
	if res := runWith(gof); res.code != 1 || gof.delivered(t) != 2 {
		t.Errorf("gofetchmail after fetchmail: exit %d, delivered %d in all, want 1 and 2\n%v", res.code, gof.delivered(t), res)
	}
}

package fetch

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The real fetchmail 6.4 reads an idfile holding gofetchmail's encoded
// UIDs without misreading any other line: the polled account's ordinary
// UIDs still count as seen (nothing fetched twice), and the lines of an
// account it does not poll, encoded ones split over several lines
// included, come back byte for byte. Skipped without fetchmail installed.
func TestFetchmailReadsEncodedIdfile(t *testing.T) {
	fm, err := exec.LookPath("fetchmail")
	if err != nil {
		t.Skip("no fetchmail installed")
	}
	e := newTestEnv(t, testMessages(2), nil)
	host, port, _ := strings.Cut(e.srv.Addr, ":")
	dir := t.TempDir()
	polled := "msingh@" + host
	other := "other@elsewhere.example"
	idfile := filepath.Join(dir, "fetchids")
	s, err := LoadUIDStore(idfile)
	if err != nil {
		t.Fatal(err)
	}
	s.Add(polled, "uid-0001", "a b", strings.Repeat("\u2028", 300))
	s.Add(other, weirdUIDs()...)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(idfile)
	var theirs bytes.Buffer // the other account's lines, as written
	for _, l := range strings.SplitAfter(string(before), "\n") {
		if strings.HasPrefix(l, other+" ") {
			theirs.WriteString(l)
		}
	}
	if strings.Count(theirs.String(), "~gfm+") == 0 { // the codec's continuation prefix (ledger/idfile_codec.go)
		t.Fatal("the test needs a UID split over several lines")
	}

	rc := filepath.Join(dir, "fetchmailrc")
	os.WriteFile(rc, []byte(fmt.Sprintf("poll %s proto pop3 port %s timeout 10\n  user msingh password foobar sslproto '' keep mda \"cat >/dev/null\"\n", host, port)), 0o600)
	cmd := exec.Command(fm, "-f", rc, "-i", idfile, "--pidfile", filepath.Join(dir, "pid"), "-v")
	cmd.Env = append(os.Environ(), "HOME="+dir, "FETCHMAILHOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("fetchmail: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "2 messages (1 seen)") {
		t.Errorf("fetchmail did not take uid-0001 as seen:\n%s", out)
	}
	after, _ := os.ReadFile(idfile)
	if !strings.HasSuffix(string(after), theirs.String()) || strings.Count(string(after), other+" ") != strings.Count(theirs.String(), other+" ") {
		t.Errorf("fetchmail changed the other account's lines:\n%s\nwant them to end the file as:\n%s", after, theirs.String())
	}
	for _, u := range []string{"uid-0001", "uid-0002"} {
		if !strings.Contains(string(after), polled+" "+u+"\n") {
			t.Errorf("fetchmail did not record %s:\n%s", u, after)
		}
	}
	// And gofetchmail reads fetchmail's rewrite back: every UID of the
	// other account intact.
	back, err := LoadUIDStore(idfile)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range weirdUIDs() {
		if !back.Has(other, u) {
			t.Errorf("UID %.30q of the other account lost", u)
		}
	}
}

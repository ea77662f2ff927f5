package fetch

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// keepdays leaves the idfile fetchmail's: after a poll with keepdays, the
// real fetchmail 6.4 reads it (every delivered message seen, nothing
// fetched twice) and rewrites it, and gofetchmail's dates, beside it, are
// still there for the next poll. Skipped without fetchmail installed.
func TestFetchmailSharesIdfileWithKeepdays(t *testing.T) {
	fm, err := exec.LookPath("fetchmail")
	if err != nil {
		t.Skip("no fetchmail installed")
	}
	e := newTestEnv(t, testMessages(3), nil)
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	now := t0
	e.opts.Now = func() time.Time { return now }
	days := 1
	e.job.User.Keep = true
	e.job.User.Keepdays = &days
	if r := e.poll(t); r.Delivered != 3 || r.Deleted != 0 || r.Err != nil {
		t.Fatalf("first poll: %+v\n%s", r, e.log)
	}
	idfile := e.uids.Path()
	before, _ := os.ReadFile(idfile)
	if strings.Contains(string(before), "2026") || strings.Count(string(before), "\n") != 3 {
		t.Fatalf("the idfile is not fetchmail's three lines:\n%s", before)
	}
	if _, err := os.Stat(idfile + ".dates"); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	host, port, _ := strings.Cut(e.srv.Addr, ":")
	rc := filepath.Join(dir, "fetchmailrc")
	os.WriteFile(rc, []byte(fmt.Sprintf("poll %s proto pop3 port %s timeout 10\n  user msingh password foobar sslproto '' keep mda \"cat >/dev/null\"\n", host, port)), 0o600)
	cmd := exec.Command(fm, "-f", rc, "-i", idfile, "--pidfile", filepath.Join(dir, "pid"), "-v")
	cmd.Env = append(os.Environ(), "HOME="+dir, "FETCHMAILHOME="+dir)
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 1 { // 1: no new mail
		t.Fatalf("fetchmail: exit %d (%v)\n%s", code, err, out)
	}
	if !strings.Contains(string(out), "3 messages (3 seen)") {
		t.Errorf("fetchmail did not take gofetchmail's UIDs as seen:\n%s", out)
	}

	// A day later, a new gofetchmail run: the dates survived fetchmail's
	// rewrite of the idfile.
	now = t0.Add(24 * time.Hour)
	if e.uids, err = LoadUIDStore(idfile); err != nil {
		t.Fatal(err)
	}
	if r := e.poll(t); r.Deleted != 3 || r.Delivered != 0 || r.Err != nil {
		t.Errorf("the poll a day later: %+v\n%s", r, e.log)
	}
	if n := len(e.mbox.Messages()); n != 0 {
		t.Errorf("%d messages left on the server", n)
	}
}

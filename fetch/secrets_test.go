package fetch

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gofetchmail/gofetchmail/secrets"
)

// The password sources of package secrets, seen through a poll.

// A passwordfd is read once per process (secrets.Store), however many
// polls use it.
func TestPasswordFD(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w.WriteString("foobar\nignored\n")
	w.Close()
	e := newTestEnv(t, testMessages(1), nil)
	e.opts.Secrets = secrets.NewStore() // the process's: every Run of it shares what was read
	src := strings.Replace(pollRC(e.srv.Addr, plain), "password foobar", fmt.Sprintf("passwordfd %d", r.Fd()), 1)
	for i := 0; i < 2; i++ { // the second poll reuses what was read
		e.rejob(t, src)
		if res := e.poll(t); res.Status != StatusSuccess && res.Status != StatusNoMail {
			t.Fatalf("poll %d: %+v\n%s", i, res, e.log)
		}
	}
	if len(e.mbox.Messages()) != 0 {
		t.Error("mail not fetched")
	}
}

// The engine takes a password the rc file lacks from the .netrc before it
// would prompt, and says so only at -v -v; the password is never logged.
func TestPollUsesNetrc(t *testing.T) {
	e := newTestEnv(t, testMessages(2), nil)
	e.job.User.Password = nil
	e.opts.Verbose = 2
	e.opts.Password = func(string) (string, error) {
		t.Error("prompted although the .netrc has the password")
		return "", nil
	}
	e.opts.NetrcFile = filepath.Join(t.TempDir(), ".netrc")
	if err := os.WriteFile(e.opts.NetrcFile, []byte("machine 127.0.0.1 login msingh password foobar\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(e.opts.NetrcFile, 0o644)
	res := e.poll(t)
	if res.Err != nil || res.Delivered != 2 {
		t.Fatalf("result %+v\n%s", res, e.log)
	}
	log := e.log.String()
	if !strings.Contains(log, "the password for msingh@127.0.0.1 comes from "+e.opts.NetrcFile) {
		t.Errorf("-v -v does not name the password's source:\n%s", log)
	}
	if !strings.Contains(log, "is accessible to group or others (mode 0644)") {
		t.Errorf("no warning about the loose mode:\n%s", log)
	}
	if strings.Contains(log, "foobar") {
		t.Errorf("password in the log:\n%s", log)
	}
	// Without a matching entry the prompt is the next source.
	os.WriteFile(e.opts.NetrcFile, []byte("machine elsewhere login msingh password foobar\n"), 0o600)
	prompted := false
	e.opts.Password = func(string) (string, error) { prompted = true; return "foobar", nil }
	e.mbox.Add(testMessages(1)...)
	if res := e.poll(t); res.Err != nil || !prompted {
		t.Errorf("result %+v, prompted %v", res, prompted)
	}
}

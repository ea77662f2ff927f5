package deliver

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// syscallChildEnv makes the test binary, re-executed under strace, deliver
// syscallMessages messages into the maildir it names and exit.
const syscallChildEnv = "GOFETCHMAIL_TEST_SYSCALL_MAILDIR"

const syscallMessages = 200

// TestMaildirSyscallWaste delivers 200 messages into a maildir under
// strace -c and checks that a message costs no system call that only fails
// or undoes another: no epoll_ctl (os.OpenFile registers a regular file with
// the poller, which refuses it), no failing newfstatat (os.Rename's lstat of
// the target), at most one fcntl per file. Skipped where strace is missing
// or may not trace.
func TestMaildirSyscallWaste(t *testing.T) {
	if dir := os.Getenv(syscallChildEnv); dir != "" {
		md, err := NewMaildir(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		deliverForStrace(t, md)
		return
	}
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace not installed")
	}
	tmp := t.TempDir()
	out := filepath.Join(tmp, "strace.txt")
	cmd := exec.Command(strace, "-f", "-c", "-o", out, "-e", "trace=epoll_ctl,newfstatat,fcntl",
		os.Args[0], "-test.run=^TestMaildirSyscallWaste$", "-test.count=1")
	cmd.Env = append(os.Environ(), syscallChildEnv+"="+filepath.Join(tmp, "Maildir"))
	if b, err := cmd.CombinedOutput(); err != nil {
		if strings.Contains(string(b), "ptrace") {
			t.Skipf("strace may not trace here: %s", b)
		}
		t.Fatalf("strace: %v\n%s", err, b)
	}
	calls, errs := straceCounts(t, out)
	n := syscallMessages
	if calls["epoll_ctl"] >= n/4 {
		t.Errorf("%d epoll_ctl calls (%d failing) for %d messages: the maildir's files go to the poller", calls["epoll_ctl"], errs["epoll_ctl"], n)
	}
	if errs["newfstatat"] >= n/4 {
		t.Errorf("%d failing newfstatat calls for %d messages", errs["newfstatat"], n)
	}
	if calls["fcntl"] > n+n/4 {
		t.Errorf("%d fcntl calls for %d messages, want at most one per message", calls["fcntl"], n)
	}
	names, err := os.ReadDir(filepath.Join(tmp, "Maildir", "new"))
	if err != nil || len(names) != n {
		t.Fatalf("new/ holds %d messages (%v), want %d", len(names), err, n)
	}
}

// TestMboxSyscallWaste delivers 200 messages into an mbox under strace -c
// and checks that a message costs no lseek (the end of a message is known
// from what was written) and the batch's file goes to no poller.
func TestMboxSyscallWaste(t *testing.T) {
	if path := os.Getenv(syscallMboxEnv); path != "" {
		m, err := NewMbox(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		deliverForStrace(t, m)
		return
	}
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace not installed")
	}
	tmp := t.TempDir()
	out := filepath.Join(tmp, "strace.txt")
	cmd := exec.Command(strace, "-f", "-c", "-o", out, "-e", "trace=lseek,epoll_ctl",
		os.Args[0], "-test.run=^TestMboxSyscallWaste$", "-test.count=1")
	cmd.Env = append(os.Environ(), syscallMboxEnv+"="+filepath.Join(tmp, "mbox"))
	if b, err := cmd.CombinedOutput(); err != nil {
		if strings.Contains(string(b), "ptrace") {
			t.Skipf("strace may not trace here: %s", b)
		}
		t.Fatalf("strace: %v\n%s", err, b)
	}
	calls, _ := straceCounts(t, out)
	n := syscallMessages
	if calls["lseek"] >= n/4 {
		t.Errorf("%d lseek calls for %d messages", calls["lseek"], n)
	}
	if calls["epoll_ctl"] >= n/4 {
		t.Errorf("%d epoll_ctl calls for %d messages", calls["epoll_ctl"], n)
	}
	b, err := os.ReadFile(filepath.Join(tmp, "mbox"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(b), "\nFrom a@example.org ") + 1; got != n {
		t.Errorf("%d messages in the mbox, want %d", got, n)
	}
}

// syscallMboxEnv is syscallChildEnv's twin for an mbox.
const syscallMboxEnv = "GOFETCHMAIL_TEST_SYSCALL_MBOX"

// deliverForStrace is the traced child: syscallMessages messages in
// batches of 64, as a poll delivers them.
func deliverForStrace(t *testing.T, md interface {
	Deliverer
	Sync() error
}) {
	msg := []byte("From: a@example.org\nSubject: s\n\nbody\n")
	for i := range syscallMessages {
		tx, err := md.Begin(context.Background(), Envelope{From: "a@example.org"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Write(msg); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if i%64 == 63 {
			if err := md.Sync(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := md.Sync(); err != nil {
		t.Fatal(err)
	}
	md.Close()
}

// straceCounts reads the calls and errors columns of strace -c's summary.
func straceCounts(t *testing.T, path string) (calls, errs map[string]int) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	calls, errs = map[string]int{}, map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		// % time, seconds, usecs/call, calls, [errors], syscall
		if len(fs) < 5 {
			continue
		}
		if _, err := strconv.ParseFloat(fs[0], 64); err != nil {
			continue
		}
		name := fs[len(fs)-1]
		calls[name], _ = strconv.Atoi(fs[3])
		if len(fs) == 6 {
			errs[name], _ = strconv.Atoi(fs[4])
		}
	}
	return calls, errs
}

package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gofetchmail/gofetchmail/rcparse"
)

// fakeInstance runs a copy of sleep named name (so that /proc/PID/exe
// says name) as uid (-1: this user) and returns its pid and a function
// telling which signal (SIGUSR1 or SIGTERM, both fatal to sleep) was sent
// to it, if any. The process is not reaped until the test ends, so the
// answer needs no waiting: a signal sent has either killed it (a zombie)
// or is pending. With reap, it is reaped as soon as it exits instead (for
// --quit, which waits for the pid to be gone), and the function waits for
// the exit.
func fakeInstance(t *testing.T, name string, uid int, reap bool) (pid int, signalled func() string) {
	t.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep")
	}
	// Not under t.TempDir(): its parent is closed to other users.
	dir, err := os.MkdirTemp("", "fakeinstance")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	prog := filepath.Join(dir, name)
	data, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(prog, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(prog, "300")
	if uid >= 0 {
		if os.Geteuid() != 0 {
			t.Skip("needs root to run a process as another user (nobody)")
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid = cmd.Process.Pid
	exited := make(chan struct{})
	var state *os.ProcessState
	t.Cleanup(func() {
		cmd.Process.Kill()
		if !reap {
			cmd.Wait()
		}
		<-exited
	})
	if reap {
		go func() { cmd.Wait(); state = cmd.ProcessState; close(exited) }()
		return pid, func() string {
			<-exited
			if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return ws.Signal().String()
			}
			return ""
		}
	}
	close(exited)
	return pid, func() string {
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			t.Fatal(err)
		}
		var pending uint64
		for _, l := range strings.Split(string(st), "\n") {
			k, v, _ := strings.Cut(l, ":")
			v = strings.TrimSpace(v)
			switch k {
			case "State":
				if strings.HasPrefix(v, "Z") {
					return "signalled"
				}
			case "SigPnd", "ShdPnd":
				var x uint64
				fmt.Sscanf(v, "%x", &x)
				pending |= x
			}
		}
		for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGTERM} {
			if pending&(1<<(sig-1)) != 0 {
				return "signalled"
			}
		}
		return ""
	}
}

// Before a wake-up (SIGUSR1) or --quit (SIGTERM) goes to the pid in the
// pid file, the process must be a gofetchmail or fetchmail of this user:
// a pid file is only a number someone wrote, and pids are reused.
// Otherwise one line says so, nothing is signalled, and the status is 8
// (fetchmail 6.4.37's status when it cannot signal the pid).
func TestSignalOnlyOurInstance(t *testing.T) {
	for _, c := range []struct {
		name, prog string
		uid        int // -1: this user
		quit       bool
		want       int
		signal     string // what became of the process (see fakeInstance)
	}{
		{"wake another program", "sleepy", -1, false, 8, ""},
		{"quit another program", "sleepy", -1, true, 8, ""},
		{"wake another user's fetchmail", "fetchmail", 65534, false, 8, ""},
		{"quit another user's gofetchmail", "gofetchmail", 65534, true, 8, ""},
		{"wake our gofetchmail", "gofetchmail", -1, false, 0, "signalled"},
		{"wake our fetchmail", "fetchmail", -1, false, 0, "signalled"},
		{"quit our gofetchmail", "gofetchmail", -1, true, 0, "terminated"},
	} {
		t.Run(c.name, func(t *testing.T) {
			pid, signalled := fakeInstance(t, c.prog, c.uid, c.quit && c.want == 0)
			pidfile := filepath.Join(t.TempDir(), "fetchmail.pid")
			os.WriteFile(pidfile, []byte(fmt.Sprintf("%d\n300\n", pid)), 0o600)
			cfg := &rcparse.Config{Pidfile: &pidfile}
			f := newFlags(io.Discard)
			args := []string{}
			if c.quit {
				args = append(args, "--quit")
			}
			if err := f.fs.Parse(args); err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			_, code, done := takeLock(cfg, f, t.TempDir(), &stderr)
			if !done || code != c.want {
				t.Errorf("takeLock: exit %d (done %v), want %d\n%s", code, done, c.want, stderr.String())
			}
			if got := signalled(); got != c.signal {
				t.Errorf("the process recorded signals %q, want %q\n%s", got, c.signal, stderr.String())
			}
			if c.want == 8 {
				msg := stderr.String()
				if !strings.Contains(msg, "not a gofetchmail or fetchmail of yours") || !strings.Contains(msg, pidfile) || strings.Count(msg, "\n") != 1 {
					t.Errorf("want one line naming the pid file and why: %q", msg)
				}
			}
		})
	}
}

// A pid file that is a link, or another user's, is not believed: nothing
// is signalled, and the run stops with status 8 (it cannot create its own
// pid file beside it either).
func TestUntrustedPidfileNotBelieved(t *testing.T) {
	pid, signalled := fakeInstance(t, "gofetchmail", -1, false)
	dir := t.TempDir()
	real := filepath.Join(dir, "real.pid")
	os.WriteFile(real, []byte(fmt.Sprintf("%d\n300\n", pid)), 0o600)
	link := filepath.Join(dir, "fetchmail.pid")
	os.Symlink(real, link)
	cfg := &rcparse.Config{Pidfile: &link}
	f := newFlags(io.Discard)
	f.fs.Parse(nil)
	var stderr strings.Builder
	_, code, done := takeLock(cfg, f, dir, &stderr)
	if !done || code != 8 || !strings.Contains(stderr.String(), "symbolic link") {
		t.Errorf("exit %d (done %v), want 8 and why:\n%s", code, done, stderr.String())
	}
	if got := signalled(); got != "" {
		t.Errorf("signalled through a linked pid file: %q", got)
	}
}

package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stopDaemon ends the daemon named by pidfile when a test leaves it running.
func stopDaemon(t *testing.T, pidfile string) {
	t.Cleanup(func() {
		data, err := os.ReadFile(pidfile)
		if err != nil {
			return
		}
		if pid, _ := strconv.Atoi(strings.Fields(string(data) + " 0")[0]); pid > 0 {
			syscall.Kill(pid, syscall.SIGTERM)
		}
	})
}

// daemonRC writes rc text for the in-process POP3 server: relative paths,
// taken relative to the rc file's directory.
func daemonRC(addr, auth string) string {
	host, port, _ := net.SplitHostPort(addr)
	return fmt.Sprintf(`set pidfile "run.pid"
set idfile "ids"
poll %s port %s proto pop3 user joe %s sslproto '' maildir "Maildir"
`, host, port, auth)
}

// Issue 15.2: `cd ~; gofetchmail -d 5 -f big.rc -L gd.log`, every path
// relative, starts a daemon that really polls: it finds its rc file, writes
// its pid file and its log, and delivers.
func TestDaemonRelativePathsFromHome(t *testing.T) {
	w := newUserWorld(t)
	w.cwd = w.home // cd ~
	pop, mb := popServer(t, testMessage(1))
	w.writeRC(t, filepath.Join(w.home, "big.rc"), daemonRC(pop.Addr, "password secret"))
	pidfile := filepath.Join(w.home, "run.pid")
	stopDaemon(t, pidfile)

	code, out := w.run(t, "-d", "5", "-f", "big.rc", "-L", "gd.log")
	if code != 0 || !strings.Contains(out, "starting gofetchmail") {
		t.Fatalf("exit %d, want 0 and the start message", code)
	}
	// The parent exits only once the child has written its pid file.
	data, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatalf("the daemon reported its start without a pid file: %v", err)
	}
	if !strings.Contains(out, "(pid "+strings.Fields(string(data))[0]+")") {
		t.Errorf("the pid file says %q, the start message another pid", data)
	}
	waitFor(t, "the daemon's delivery", func() bool {
		got, _ := filepath.Glob(filepath.Join(w.home, "Maildir", "new", "*"))
		return len(got) == 1 && len(mb.Messages()) == 0
	})
	log, _ := os.ReadFile(filepath.Join(w.home, "gd.log"))
	if !strings.Contains(string(log), "starting gofetchmail") {
		t.Errorf("gd.log in the working directory does not have the daemon's log:\n%s", log)
	}
	if code, _ := w.run(t, "-f", "big.rc", "--quit"); code != 0 {
		t.Errorf("--quit exit %d", code)
	}
}

// A daemon that cannot start says why and exits with the child's status;
// it never says it started.
func TestDaemonThatCannotStartSaysWhy(t *testing.T) {
	w := newUserWorld(t)
	pop, _ := popServer(t, testMessage(1))
	rc := filepath.Join(w.home, ".fetchmailrc")
	w.writeRC(t, rc, daemonRC(pop.Addr, "password secret"))
	stopDaemon(t, filepath.Join(w.home, "run.pid"))

	code, out := w.run(t, "-d", "5", "-L", "/nonexistent/x.log")
	if code == 0 || strings.Contains(out, "starting gofetchmail") {
		t.Errorf("-L /nonexistent/x.log: exit %d; want a failure, not a start message", code)
	}
	if !strings.Contains(out, "/nonexistent/x.log") {
		t.Errorf("-L /nonexistent/x.log: the message does not name the log file:\n%s", out)
	}

	// A pid file that cannot be created: fetchmail's 8, "lock creation
	// failed", reported by the child through the parent.
	w.writeRC(t, rc, strings.Replace(daemonRC(pop.Addr, "password secret"), `"run.pid"`, `"/nonexistent/dir/run.pid"`, 1))
	code, out = w.run(t, "-d", "5")
	if code != 8 || !strings.Contains(out, "lock creation failed") || strings.Contains(out, "starting gofetchmail") {
		t.Errorf("unwritable pid file: exit %d, want 8 and \"lock creation failed\"", code)
	}
}

// Issues 14.17 and 15.2: a password typed at the prompt reaches the
// detached daemon, which polls with it; it is passed over a pipe, never
// on the child's command line or in its environment.
func TestDaemonGetsTypedPassword(t *testing.T) {
	w := newUserWorld(t)
	pop, mb := popServerPW(t, "Pass w0rd!", testMessage(1), testMessage(2))
	rc := filepath.Join(w.home, ".fetchmailrc")
	w.writeRC(t, rc, daemonRC(pop.Addr, ""))
	pidfile := filepath.Join(w.home, "run.pid")
	stopDaemon(t, pidfile)

	master, slave := openPty(t)
	cmd := w.command(t, "-d", "300")
	startOnPty(t, cmd, slave)
	out := readPty(master)
	waitFor(t, "the password prompt", func() bool { return strings.Contains(out.String(), "Enter password for joe@") })
	master.Write([]byte("Pass w0rd!\n"))
	err := cmd.Wait()
	t.Logf("terminal:\n%s", out.String())
	if err != nil {
		t.Fatalf("the parent: %v", err)
	}
	waitFor(t, "the daemon's delivery", func() bool {
		got, _ := filepath.Glob(filepath.Join(w.home, "Maildir", "new", "*"))
		return len(got) == 2 && len(mb.Messages()) == 0
	})
	data, _ := os.ReadFile(pidfile)
	pid := strings.Fields(string(data) + " ")[0]

	// An edited rc file, reloaded: the typed password is still there.
	later := time.Now().Add(time.Hour)
	os.Chtimes(rc, later, later)
	mb.Add(testMessage(3))
	n, _ := strconv.Atoi(pid)
	if err := syscall.Kill(n, syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the delivery after the reload", func() bool {
		got, _ := filepath.Glob(filepath.Join(w.home, "Maildir", "new", "*"))
		return len(got) == 3 && len(mb.Messages()) == 0
	})
	for _, f := range []string{"cmdline", "environ"} {
		b, err := os.ReadFile("/proc/" + pid + "/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "w0rd") {
			t.Errorf("the password is in the daemon's /proc/%s/%s", pid, f)
		}
	}
}

// The command line's relative paths keep their meaning when the daemon,
// which runs in "/", reloads a changed rc file and applies the command line
// again: -i ids stays $PWD/ids, so a kept message is not fetched twice.
func TestDaemonReloadKeepsRelativePaths(t *testing.T) {
	w := newUserWorld(t)
	w.cwd = w.home
	pop, _ := popServer(t, testMessage(1))
	rc := filepath.Join(w.home, "big.rc")
	w.writeRC(t, rc, daemonRC(pop.Addr, "password secret keep"))
	stopDaemon(t, filepath.Join(w.home, "run.pid"))
	t.Cleanup(func() { os.Remove("/ids-reload-test") })

	if code, _ := w.run(t, "-d", "300", "-f", "big.rc", "-L", "gd.log", "-i", "ids-reload-test"); code != 0 {
		t.Fatalf("exit %d", code)
	}
	maildir := filepath.Join(w.home, "Maildir", "new")
	waitFor(t, "the first delivery", func() bool {
		got, _ := filepath.Glob(filepath.Join(maildir, "*"))
		_, err := os.Stat(filepath.Join(w.home, "ids-reload-test"))
		return len(got) == 1 && err == nil
	})
	// An edit: the daemon reloads before its next poll, which SIGUSR1
	// wakes.
	later := time.Now().Add(time.Hour)
	os.Chtimes(rc, later, later)
	data, _ := os.ReadFile(filepath.Join(w.home, "run.pid"))
	pid, _ := strconv.Atoi(strings.Fields(string(data) + " 0")[0])
	if pid <= 0 || syscall.Kill(pid, syscall.SIGUSR1) != nil {
		t.Fatalf("cannot wake the daemon (pid file %q)", data)
	}
	logfile := filepath.Join(w.home, "gd.log")
	waitFor(t, "the poll after the reload", func() bool {
		b, _ := os.ReadFile(logfile)
		_, after, ok := strings.Cut(string(b), "configuration reloaded")
		return ok && strings.Contains(after, " for joe at ")
	})
	log, _ := os.ReadFile(logfile)
	t.Logf("gd.log:\n%s", log)
	_, after, _ := strings.Cut(string(log), "configuration reloaded")
	if !strings.Contains(after, "seen) for joe at ") {
		t.Error("after the reload the kept message is not seen: the idfile moved")
	}
	if got, _ := filepath.Glob(filepath.Join(maildir, "*")); len(got) != 1 {
		t.Errorf("%d messages delivered, want 1: the reloaded daemon lost its idfile", len(got))
	}
	if _, err := os.Stat("/ids-reload-test"); err == nil {
		t.Error("the reloaded daemon wrote its idfile to /ids-reload-test")
	}
}

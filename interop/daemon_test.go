//go:build interop

package interop

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/interop/internal/rigmail"
)

// daemonEnv is the environment of a daemon and of the commands that talk
// to it: FETCHMAILHOME puts the rc file, idfile and pid file in r.dir.
func daemonEnv(r *retriever, extra ...string) []string {
	return append([]string{"HOME=" + r.dir, "FETCHMAILHOME=" + r.dir, "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C"}, extra...)
}

// waitFor polls cond until it holds, failing the test after 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func readLog(path string) string {
	data, _ := os.ReadFile(path)
	return string(data)
}

// TestDaemonNodetach runs gofetchmail -d 3600 --nodetach -L log against
// dovecot: it polls at start, is woken by a plain second gofetchmail,
// reloads an edited rc file, keeps the old configuration when an edit
// breaks the rc file, refuses other options while it runs (8), and stops
// on --quit, removing its pid file.
func TestDaemonNodetach(t *testing.T) {
	r := newRetriever(t, "gofetchmail", binary)
	r.rc(t, strings.ReplaceAll(rigRC(""), "%PORT%", rig["RIG_POP3_PORT"]), 0o600)
	logfile := filepath.Join(r.dir, "daemon.log")
	settledFill(t, 2)

	d := exec.Command(binary, "-d", "3600", "--nodetach", "-L", logfile)
	d.Dir, d.Env = r.dir, daemonEnv(r)
	var out strings.Builder
	d.Stdout, d.Stderr = &out, &out
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- d.Wait() }()
	t.Cleanup(func() {
		d.Process.Kill()
		<-exited
	})
	pidfile := filepath.Join(r.dir, "fetchmail.pid")

	waitFor(t, "the first poll to deliver 2 messages", func() bool { return r.delivered(t) == 2 })
	pid := readPid(t, pidfile)
	if pid != d.Process.Pid {
		t.Fatalf("pid file names %d, the daemon is %d", pid, d.Process.Pid)
	}
	if data, _ := os.ReadFile(pidfile); !strings.HasSuffix(string(data), "\n3600\n") {
		t.Errorf("pid file %q lacks the interval line", data)
	}

	// A plain invocation wakes the daemon.
	addMail(t, 3)
	wake := func() {
		t.Helper()
		res := r.runRaw(t)
		if res.code != 0 || !strings.Contains(res.stderr, "awakened") {
			t.Fatalf("waking the daemon: %v", res)
		}
	}
	wake()
	waitFor(t, "the woken daemon to deliver 3 more", func() bool { return r.delivered(t) == 5 })
	serverHolds(t, 0)

	// Other options while it runs: exit 8.
	for _, opt := range []string{"-k", "-c", "127.0.0.1"} {
		if res := r.runRaw(t, opt); res.code != 8 {
			t.Errorf("gofetchmail %s while the daemon runs: %v, want exit 8", opt, res)
		}
	}

	// A valid edit is picked up at the next poll: limit 100 leaves mail.
	r.rc(t, strings.ReplaceAll(rigRC("limit 100"), "%PORT%", rig["RIG_POP3_PORT"]), 0o600)
	addMail(t, 1)
	wake()
	waitFor(t, "the reloaded limit to skip a message", func() bool { return strings.Contains(readLog(logfile), "(oversized)") })
	if n := r.delivered(t); n != 5 {
		t.Errorf("delivered %d messages after the limit edit, want still 5", n)
	}

	// A broken edit: logged, the daemon keeps the old configuration.
	polls := strings.Count(readLog(logfile), "(oversized)")
	writeFile(t, filepath.Join(r.dir, "fetchmailrc"), "poll 127.0.0.1 with proto pop3 user\n", 0o600)
	// A plain gofetchmail would stop at the broken rc file (exit 5, as
	// fetchmail does), so the wake-up signal is sent by hand.
	if err := syscall.Kill(pid, syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the daemon to poll again with the old configuration", func() bool {
		return strings.Count(readLog(logfile), "(oversized)") > polls
	})
	if log := readLog(logfile); !strings.Contains(log, "keeping the previous configuration") {
		t.Errorf("the log does not report the broken rc file:\n%s", log)
	}
	if syscall.Kill(pid, 0) != nil {
		t.Fatal("the daemon died on a broken rc file")
	}
	for _, line := range strings.Split(strings.TrimSpace(readLog(logfile)), "\n") {
		if _, err := time.Parse(time.RFC3339, strings.Fields(line)[0]); err != nil {
			t.Errorf("log line without a timestamp: %q", line)
			break
		}
	}

	// --quit stops it (it reads the rc file first, as fetchmail's does:
	// with the broken one it would exit 5).
	r.rc(t, strings.ReplaceAll(rigRC(""), "%PORT%", rig["RIG_POP3_PORT"]), 0o600)
	res := r.runRaw(t, "--quit")
	if res.code != 0 || !strings.Contains(res.stderr, "killed") {
		t.Errorf("gofetchmail --quit: %v", res)
	}
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatal("the daemon did not exit after --quit")
	}
	exited <- nil // for the cleanup
	if _, err := os.Stat(pidfile); !os.IsNotExist(err) {
		t.Errorf("pid file left behind: %v", err)
	}
	if res := r.runRaw(t, "--quit"); res.code != 8 {
		t.Errorf("--quit with no daemon: %v, want exit 8", res)
	}
}

// TestDaemonDetachSyslog starts a detaching daemon with --syslog and reads
// its records from a unix datagram socket standing in for /dev/log.
func TestDaemonDetachSyslog(t *testing.T) {
	r := newRetriever(t, "gofetchmail", binary)
	r.rc(t, strings.ReplaceAll(rigRC(""), "%PORT%", rig["RIG_POP3_PORT"]), 0o600)
	sock := filepath.Join(r.dir, "log.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	settledFill(t, 2)

	cmd := exec.Command(binary, "-d", "3600", "--syslog")
	cmd.Dir, cmd.Env = r.dir, daemonEnv(r, "GOFETCHMAIL_SYSLOG_SOCKET="+sock)
	outb, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("starting the daemon: %v\n%s", err, outb)
	}
	pidfile := filepath.Join(r.dir, "fetchmail.pid")
	waitFor(t, "the pid file", func() bool { _, err := os.Stat(pidfile); return err == nil })
	pid := readPid(t, pidfile)
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })

	var records []string
	buf := make([]byte, 8192)
	for !strings.Contains(strings.Join(records, "\n"), "reading message") {
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("reading syslog records: %v; got so far:\n%s", err, strings.Join(records, "\n"))
		}
		records = append(records, string(buf[:n]))
	}
	first := records[0]
	// LOG_MAIL|LOG_INFO is 2*8+6 = 22; the tag carries the daemon's pid.
	if !strings.HasPrefix(first, "<22>") || !strings.Contains(first, "gofetchmail["+strconv.Itoa(pid)+"]") ||
		!strings.Contains(first, "starting gofetchmail") {
		t.Errorf("first syslog record %q is not <22>... gofetchmail[%d]: starting gofetchmail ...", first, pid)
	}
	waitFor(t, "delivery of 2 messages", func() bool { return r.delivered(t) == 2 })

	res := r.runRaw(t, "--quit")
	if res.code != 0 {
		t.Errorf("gofetchmail --quit: %v", res)
	}
	waitFor(t, "the daemon to exit", func() bool { return syscall.Kill(pid, 0) != nil })
	if _, err := os.Stat(pidfile); !os.IsNotExist(err) {
		t.Errorf("pid file left behind: %v", err)
	}
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.Fields(string(data))[0])
	if err != nil {
		t.Fatalf("pid file %q: %v", data, err)
	}
	return pid
}

// TestDaemonLikeFetchmail runs the same daemon session with gofetchmail and
// the real fetchmail (pid file set in the rc file, so that bare invocations
// find it) and expects the same exit code from each invocation: wake-ups,
// refusals while the daemon runs, and --quit.
func TestDaemonLikeFetchmail(t *testing.T) {
	progs := []struct{ name, path string }{{"gofetchmail", binary}}
	if fm := realFetchmail(); fm != "" {
		progs = append(progs, struct{ name, path string }{"fetchmail", fm})
	}
	steps := []struct {
		args []string
		want int
	}{
		{nil, 0},                   // wakes it
		{[]string{"-v"}, 0},        // wakes it too
		{[]string{"-k"}, 8},        // options are refused
		{[]string{"-c"}, 8},        // so is --check
		{[]string{"127.0.0.1"}, 8}, // and server names
		{[]string{"--quit"}, 0},
		{[]string{"--quit"}, 8}, // nothing runs any more
	}
	for _, p := range progs {
		t.Run(p.name, func(t *testing.T) {
			r := newRetriever(t, p.name, p.path)
			pidfile := filepath.Join(r.dir, "daemon.pid")
			r.rc(t, "set pidfile \""+pidfile+"\"\n"+strings.ReplaceAll(rigRC(""), "%PORT%", rig["RIG_POP3_PORT"]), 0o600)
			settledFill(t, 2)
			d := exec.Command(p.path, "-d", "3600", "-N")
			d.Dir, d.Env = r.dir, daemonEnv(r)
			if err := d.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- d.Wait() }()
			defer func() {
				d.Process.Kill()
				<-exited
			}()
			waitFor(t, "the first poll", func() bool { return r.delivered(t) == 2 })
			waitFor(t, "the pid file", func() bool { _, err := os.Stat(pidfile); return err == nil })
			for _, st := range steps {
				if st.args != nil && st.args[0] == "--quit" && st.want == 8 {
					select {
					case err := <-exited:
						exited <- err
					case <-time.After(30 * time.Second):
						t.Fatal("the daemon did not exit after --quit")
					}
				}
				res := r.runRaw(t, st.args...)
				if res.code != st.want {
					t.Errorf("%s %v while the daemon runs: exit %d, want %d\n%v", p.name, st.args, res.code, st.want, res)
				}
			}
		})
	}
}

// TestDaemonKeepsSSHConnection runs the seed rc file as a daemon against
// the real sshd and dovecot: three polls (start and two wake-ups) must use
// one SSH login, counted in sshd's log.
func TestDaemonKeepsSSHConnection(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	writeFile(t, filepath.Join(h.dir, "fetchmailrc"), seed("foobar"), 0o600)
	env := append(h.env(), "FETCHMAILHOME="+h.dir)
	logins := func() int { return strings.Count(readLog(rig["RIG_SSHD_LOG"]), "Accepted publickey for msingh") }
	before := logins()
	settledFill(t, 2)

	logfile := filepath.Join(h.dir, "daemon.log")
	d := exec.Command(binary, "-d", "3600", "-N", "-L", logfile, "--maildir", h.maildir())
	d.Dir, d.Env = h.dir, env
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- d.Wait() }()
	defer func() {
		d.Process.Kill()
		<-exited
	}()
	count := func() int { n, _ := rigmail.Count(filepath.Join(h.maildir())); return n }
	waitFor(t, "the first poll", func() bool { return count() == 2 })
	for i, want := range []int{3, 4} {
		addMail(t, 1)
		wake := exec.Command(binary)
		wake.Dir, wake.Env = h.dir, env
		if out, err := wake.CombinedOutput(); err != nil {
			t.Fatalf("wake-up %d: %v\n%s", i+1, err, out)
		}
		waitFor(t, fmt.Sprintf("wake-up %d to deliver", i+1), func() bool { return count() == want })
	}
	if n := logins() - before; n != 1 {
		t.Errorf("three daemon polls made %d SSH logins, want 1\n%s", n, readLog(logfile))
	}
	if strings.Contains(readLog(logfile), "ssh must not be run") {
		t.Error("the daemon ran the ssh program")
	}
}

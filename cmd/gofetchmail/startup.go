package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"

	"github.com/gofetchmail/gofetchmail/fetch"
	"github.com/gofetchmail/gofetchmail/rcparse"
)

// A daemon starts in two processes, because Go cannot fork: the parent
// (what the user ran) checks the rc file, the lock and the passwords, then
// re-executes the program detached (detach); the child loads everything
// again in the same working directory, takes the pid file, opens the log,
// and only then reports "ready" to the parent, which exits 0. Until then
// the child's standard error is a pipe to the parent, so whatever stops it
// (an rc file that changed, a pid file that cannot be written, a log that
// cannot be opened) reaches the user's terminal, and the parent exits with
// the child's status. A daemon that cannot start never says it started.
//
// The child's descriptors: 3 is the start-up pipe (the child writes
// "ready\n" and closes it), 4 carries the passwords typed at the parent's
// prompt (JSON, then EOF): never the command line or the environment,
// which other users can read in /proc.
const (
	startupFD = 3
	secretsFD = 4
)

// startupChild is the detached child's side of the start-up protocol.
type startupChild struct {
	status, secrets *os.File
}

// takeStartup returns the start-up protocol's files when this process is
// the detached daemon child, else nil. It clears the mark from the
// environment, so that no program the daemon runs takes it for its own.
func takeStartup() *startupChild {
	if os.Getenv(detachedEnv) == "" {
		return nil
	}
	os.Unsetenv(detachedEnv)
	st := &startupChild{}
	for fd, f := range map[int]**os.File{startupFD: &st.status, secretsFD: &st.secrets} {
		var stt syscall.Stat_t
		if syscall.Fstat(fd, &stt) != nil || stt.Mode&syscall.S_IFMT != syscall.S_IFIFO {
			continue // not started by detach: nothing to report to
		}
		syscall.CloseOnExec(fd)
		*f = os.NewFile(uintptr(fd), fmt.Sprintf("startup-%d", fd))
	}
	return st
}

// secret is one password typed at the prompt, for the entries with that
// poll name and remote user.
type secret struct {
	Poll     string `json:"poll"`
	Remote   string `json:"remote"`
	Password string `json:"password"`
}

// typedSecrets lists the passwords of the jobs that were asked for.
func typedSecrets(cfg *rcparse.Config, asked []fetch.Job) []secret {
	var out []secret
	for _, j := range asked {
		if j.User.Password != nil {
			out = append(out, secret{Poll: j.Server.Pollname, Remote: j.User.Remotename, Password: *j.User.Password})
		}
	}
	return out
}

// receivePasswords reads the passwords the parent's prompt read.
func (st *startupChild) receivePasswords() []secret {
	if st == nil || st.secrets == nil {
		return nil
	}
	defer st.secrets.Close()
	var list []secret
	if err := json.NewDecoder(io.LimitReader(st.secrets, 1<<20)).Decode(&list); err != nil {
		return nil
	}
	return list
}

// applySecrets gives the entries without a password the ones typed at the
// prompt: in the detached child, and in a daemon that reloads a changed rc
// file. An entry that no longer matches (the rc file changed) gets none,
// and fails as a run without a terminal does.
func applySecrets(cfg *rcparse.Config, list []secret) {
	for _, sc := range list {
		for _, s := range cfg.Servers {
			if s.Pollname != sc.Poll {
				continue
			}
			for _, u := range s.Users {
				if u.Remotename == sc.Remote && u.Password == nil {
					pw := sc.Password
					u.Password = &pw
				}
			}
		}
	}
}

// ready tells the parent that the daemon runs: the configuration loaded,
// the pid file written, the log open. Standard output and error then go to
// /dev/null, and the working directory becomes "/" as fetchmail's daemon's
// (every path was made absolute before).
func (st *startupChild) ready() {
	if st == nil {
		return
	}
	if devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0); err == nil {
		syscall.Dup2(int(devnull.Fd()), 1)
		syscall.Dup2(int(devnull.Fd()), 2)
		devnull.Close()
	}
	if st.status != nil {
		io.WriteString(st.status, "ready\n")
		st.status.Close()
	}
	os.Chdir("/")
}

// lineRecorder passes writes through and remembers the lines written, so
// that the parent does not repeat the child's copy of a warning it printed
// itself. It remembers at most maxLines lines.
type lineRecorder struct {
	w     io.Writer
	mu    sync.Mutex
	lines map[string]bool
}

const maxLines = 256

func (r *lineRecorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	if r.lines == nil {
		r.lines = map[string]bool{}
	}
	for _, l := range strings.Split(string(p), "\n") {
		if len(r.lines) < maxLines && l != "" {
			r.lines[l] = true
		}
	}
	r.mu.Unlock()
	return r.w.Write(p)
}

func (r *lineRecorder) said(line string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lines[line]
}

// detach re-executes the program as a session leader with no terminal, as
// fetchmail's fork and setsid do, and waits for the child's start-up
// report: 0 once the child is ready, else the child's exit status after
// its messages.
func detach(stderr *lineRecorder, secrets []secret) int {
	fail := func(err error) int {
		fmt.Fprintf(stderr, "gofetchmail: cannot start the daemon: %v\n", err)
		return int(fetch.StatusUndefined)
	}
	exe, err := os.Executable()
	if err != nil {
		return fail(err)
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return fail(err)
	}
	defer devnull.Close()
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return fail(err)
	}
	defer statusR.Close()
	secretsR, secretsW, err := os.Pipe()
	if err != nil {
		statusW.Close()
		return fail(err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		statusW.Close()
		secretsR.Close()
		secretsW.Close()
		return fail(err)
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Env = append(os.Environ(), detachedEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, devnull, errW
	cmd.ExtraFiles = []*os.File{statusW, secretsR} // fds 3 and 4
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	statusW.Close()
	secretsR.Close()
	errW.Close()
	if err != nil {
		secretsW.Close()
		errR.Close()
		return fail(err)
	}
	go func() {
		json.NewEncoder(secretsW).Encode(secrets)
		secretsW.Close()
	}()
	var childErr bytes.Buffer
	errDone := make(chan struct{})
	go func() {
		io.Copy(&childErr, io.LimitReader(errR, 1<<20))
		errR.Close()
		close(errDone)
	}()
	line, _ := bufio.NewReader(statusR).ReadString('\n')
	if line == "ready\n" {
		<-errDone // the child closed its end when it got ready
		relay(stderr, childErr.String())
		fmt.Fprintf(stderr, "gofetchmail: starting gofetchmail %s daemon (pid %d)\n", version, cmd.Process.Pid)
		cmd.Process.Release()
		return 0
	}
	werr := cmd.Wait()
	<-errDone
	code := 0
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		code = ee.ExitCode()
	}
	if relay(stderr, childErr.String()) == 0 || code <= 0 {
		why := fmt.Sprintf("exited with status %d", code)
		if code < 0 {
			why = werr.Error()
		}
		fmt.Fprintf(stderr, "gofetchmail: the daemon %s before it started; nothing is polled\n", why)
	}
	if code <= 0 {
		code = int(fetch.StatusUndefined)
	}
	return code
}

// relay prints the child's lines that the parent has not printed itself
// and returns how many it printed.
func relay(stderr *lineRecorder, out string) int {
	n := 0
	for _, l := range strings.Split(out, "\n") {
		if l != "" && !stderr.said(l) {
			fmt.Fprintln(stderr, l)
			n++
		}
	}
	return n
}

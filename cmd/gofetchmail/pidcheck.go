package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// instancePrograms are the programs whose pid file this one shares: a
// running gofetchmail or fetchmail (6.4 reads and writes the same file).
var instancePrograms = []string{"gofetchmail", "fetchmail"}

// checkInstance tells whether process pid is a gofetchmail (or fetchmail)
// run by this user: same real and effective uid, and its executable
// (/proc/PID/exe, else the first word of /proc/PID/cmdline) named like one
// of instancePrograms (or starting so). A pid file is only a number someone wrote: before a
// signal goes to that number (SIGUSR1 to wake, SIGTERM for --quit), it must
// name what it claims to. The error says in a few words what the process
// is instead.
func checkInstance(pid int) error {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return fmt.Errorf("its details cannot be read (%v)", err)
	}
	ruid, euid, ok := procUids(status)
	if !ok {
		return fmt.Errorf("its /proc/%d/status shows no Uid line", pid)
	}
	if ruid != os.Getuid() || euid != os.Geteuid() {
		return fmt.Errorf("it runs as uid %d (effective %d), you as uid %d (effective %d)", ruid, euid, os.Getuid(), os.Geteuid())
	}
	prog := ""
	if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err == nil {
		prog = strings.TrimSuffix(exe, " (deleted)") // an upgraded binary
	} else if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
		prog, _, _ = strings.Cut(string(cmdline), "\x00")
	}
	base := filepath.Base(prog)
	for _, name := range instancePrograms {
		if strings.HasPrefix(base, name) { // also a packager's "fetchmail-6.4"
			return nil
		}
	}
	if prog == "" {
		return fmt.Errorf("its program cannot be read")
	}
	return fmt.Errorf("it is %s", prog)
}

// procUids returns the real and effective uid of a /proc/PID/status.
func procUids(status []byte) (ruid, euid int, ok bool) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, found := strings.CutPrefix(sc.Text(), "Uid:")
		if !found {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 2 {
			return 0, 0, false
		}
		r, err1 := strconv.Atoi(f[0])
		e, err2 := strconv.Atoi(f[1])
		return r, e, err1 == nil && err2 == nil
	}
	return 0, 0, false
}

// notOurInstance is the one line said when the pid file names a process
// that checkInstance refuses; nothing is signalled.
func notOurInstance(path string, pid int, why error) string {
	return fmt.Sprintf("gofetchmail: the pid file %s names process %d, which is not a gofetchmail or fetchmail of yours: %v; not signalling it (remove the pid file if no gofetchmail of yours runs)", path, pid, why)
}

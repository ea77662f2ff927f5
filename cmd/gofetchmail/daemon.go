package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/gofetchmail/gofetchmail/fetch"
	"github.com/gofetchmail/gofetchmail/rcparse"
	"github.com/gofetchmail/gofetchmail/statefile"
)

// detachedEnv marks the re-executed daemon child (Go cannot fork).
const detachedEnv = "GOFETCHMAIL_DETACHED"

// pidLock is fetchmail's pid (lock) file: the pid on line 1 and, for a
// daemon, the poll interval on line 2.
type pidLock struct {
	path  string
	owned bool
}

// pidfilePath is where fetchmail keeps its pid file: set pidfile, else
// ~/.fetchmail.pid, or /var/run/fetchmail.pid for root.
func pidfilePath(cfg *rcparse.Config, home string) string {
	if cfg.Pidfile != nil && *cfg.Pidfile != "" {
		return *cfg.Pidfile
	}
	if fh := os.Getenv("FETCHMAILHOME"); fh != "" {
		return filepath.Join(fh, "fetchmail.pid")
	}
	if os.Geteuid() == 0 {
		return "/var/run/fetchmail.pid"
	}
	return filepath.Join(home, ".fetchmail.pid")
}

// readPidfile returns the running instance's pid and interval (0 when it
// is not a daemon), or pid 0 when none runs; stale reports a pid file left
// by a process that is gone (or that names this very process).
//
// A pid file that is a symbolic link or belongs to another user is not
// believed (statefile.ReadOwnedFile): untrusted carries why, and pid is 0.
func readPidfile(path string) (pid, interval int, stale bool, untrusted error) {
	data, err := statefile.ReadOwnedFile(path)
	if statefile.IsUntrusted(err) {
		return 0, 0, false, err
	}
	if err != nil {
		return 0, 0, false, nil
	}
	lines := strings.Fields(string(data))
	if len(lines) == 0 {
		return 0, 0, true, nil
	}
	pid, _ = strconv.Atoi(lines[0])
	if len(lines) > 1 {
		interval, _ = strconv.Atoi(lines[1])
	}
	if pid <= 0 || pid == os.Getpid() {
		return 0, 0, true, nil
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return 0, 0, true, nil
	}
	return pid, interval, false, nil
}

// takeLock implements fetchmail's single-instance rules: a bare invocation
// wakes a running daemon, --quit stops it, anything else while one runs is
// refused with status 8. done means: exit now with code.
func takeLock(cfg *rcparse.Config, f *flags, home string, stderr io.Writer) (l *pidLock, code int, done bool) {
	l = &pidLock{path: pidfilePath(cfg, home)}
	pid, interval, stale, untrusted := readPidfile(l.path)
	if untrusted != nil {
		// Not ours to believe, signal on, or remove; and this run cannot
		// create its own beside it: status 8, as when the lock cannot be
		// created.
		fmt.Fprintf(stderr, "gofetchmail: pid file %v; not believing it: remove it if you did not make it, or set pidfile to a file in a directory only you can write\n", untrusted)
		return l, int(fetch.StatusExclude), true
	}
	if stale {
		// As fetchmail: a dead instance's pid file is removed, so that
		// this one can create its own.
		os.Remove(l.path)
	}
	if f.quit {
		if pid == 0 {
			fmt.Fprintln(stderr, "gofetchmail: no other gofetchmail is running")
			return l, int(fetch.StatusExclude), true
		}
		if err := checkInstance(pid); err != nil {
			// fetchmail 6.4.37 exits 8 when it cannot kill the pid.
			fmt.Fprintln(stderr, notOurInstance(l.path, pid, err))
			return l, int(fetch.StatusExclude), true
		}
		if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
			fmt.Fprintf(stderr, "gofetchmail: can't kill gofetchmail (pid %d): %v\n", pid, err)
			return l, int(fetch.StatusExclude), true
		}
		for i := 0; i < 300 && syscall.Kill(pid, 0) == nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
		if _, _, stale, _ := readPidfile(l.path); stale {
			os.Remove(l.path) // it died without removing it
		}
		fmt.Fprintf(stderr, "gofetchmail: background gofetchmail at %d killed.\n", pid)
		onlyQuit := true
		f.fs.Visit(func(fl *pflag.Flag) {
			if fl.Name != "quit" && fl.Name != "fetchmailrc" {
				onlyQuit = false
			}
		})
		if onlyQuit && f.fs.NArg() == 0 {
			return l, 0, true
		}
		pid = 0
	}
	if pid != 0 {
		if interval > 0 && f.onlySafe() {
			if err := checkInstance(pid); err != nil {
				fmt.Fprintln(stderr, notOurInstance(l.path, pid, err))
				return l, int(fetch.StatusExclude), true
			}
			if err := syscall.Kill(pid, syscall.SIGUSR1); err != nil {
				fmt.Fprintf(stderr, "gofetchmail: can't wake daemon (pid %d): %v\n", pid, err)
				return l, int(fetch.StatusExclude), true
			}
			fmt.Fprintf(stderr, "gofetchmail: background gofetchmail at %d awakened.\n", pid)
			return l, 0, true
		}
		if interval > 0 {
			fmt.Fprintln(stderr, "gofetchmail: can't accept options while a background gofetchmail is running.")
		} else {
			fmt.Fprintf(stderr, "gofetchmail: another foreground gofetchmail is running at %d.\n", pid)
		}
		return l, int(fetch.StatusExclude), true
	}
	return l, 0, false
}

// acquire records this process in the pid file, which it creates
// exclusively (O_EXCL), as fetchmail does: of two instances started at
// the same moment, which both found no pid file, only one gets it; the
// other exits with status 8, as when it finds a running instance. The
// file is fsync'd: fetchmail's format, the pid, then the interval.
func (l *pidLock) acquire(interval int, stderr io.Writer) error {
	content := strconv.Itoa(os.Getpid()) + "\n"
	if interval > 0 {
		content += strconv.Itoa(interval) + "\n"
	}
	err := func() error {
		f, err := statefile.Create(l.path, 0o644)
		if err != nil {
			return err
		}
		l.owned = true
		_, err = f.WriteString(content)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}()
	if err != nil {
		l.release()
		fmt.Fprintf(stderr, "gofetchmail: %v\ngofetchmail: lock creation failed.\n", err)
	}
	return err
}

func (l *pidLock) release() {
	if l != nil && l.owned {
		os.Remove(l.path)
	}
}

// daemonLoop polls every interval; SIGUSR1 (and SIGHUP) wake it at once, a
// changed rc file is reloaded before the next poll, and an rc file broken by
// an edit keeps the old configuration running.
// sd reports to systemd (sdnotify.go): READY=1 here, STATUS= after each
// poll, WATCHDOG=1 while the loop is healthy, STOPPING=1 on quit.
func daemonLoop(ctx context.Context, cfg *rcparse.Config, rcpath, home string, f *flags, opts fetch.Options, interval int, sd *sdNotifier) int {
	log := opts.Logger
	wake := make(chan os.Signal, 1)
	signal.Notify(wake, syscall.SIGUSR1, syscall.SIGHUP)
	defer signal.Stop(wake)
	log.Info(fmt.Sprintf("starting gofetchmail %s daemon", version))
	mtime := modTime(rcpath)
	opts.Progress = sd.progress(opts.Progress)
	runner := fetch.NewRunner(opts)
	defer runner.Close()
	sd.ready()
	for cycle := 0; ; cycle++ {
		r := sd.poll(ctx, stallLimit(cfg), func() pollResult {
			code, results := pollCycle(ctx, cfg, f, opts, runner, cycle)
			return pollResult{code, results}
		})
		if ctx.Err() != nil {
			break
		}
		sd.polled(r, interval)
		if sig := sd.sleep(ctx, wake, time.Duration(interval)*time.Second); sig != nil {
			log.Info("awakened by " + sig.String())
		}
		if ctx.Err() != nil {
			break
		}
		if m := modTime(rcpath); !m.Equal(mtime) {
			mtime = m
			ncfg, code := loadConfig(rcpath, home, f, logWriter{log})
			if ncfg == nil {
				log.Error(fmt.Sprintf("the rc file %s changed and does not load (status %d); keeping the previous configuration", rcpath, code))
				sd.rcBroken(rcpath, code)
				continue
			}
			sd.rcBroken(rcpath, 0)
			log.Info("the rc file changed; configuration reloaded")
			cfg = ncfg
		}
	}
	sd.stop()
	log.Info("terminated by signal; gofetchmail daemon exiting")
	return 0
}

func modTime(path string) time.Time {
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

// logWriter turns writes of diagnostic lines into log records.
type logWriter struct {
	log interface{ Error(string, ...any) }
}

// Each line becomes one record; the program-name prefix of the line
// ("gofetchmail: ", or fetchmail's "gofetchmail:FILE:LINE: " of an rc
// error) is dropped, since the log handler writes its own.
func (w logWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimSpace(string(p)), "\n") {
		line = strings.TrimPrefix(line, "gofetchmail:")
		if line = strings.TrimSpace(line); line != "" {
			w.log.Error(line)
		}
	}
	return len(p), nil
}

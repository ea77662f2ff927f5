package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/gofetchmail/gofetchmail/fetch"
	"github.com/gofetchmail/gofetchmail/rcparse"
)

// sdNotifier tells the service manager that started the daemon how it is
// doing, over systemd's notification protocol (sd_notify(3); a unit with
// Type=notify, docs/systemd.md):
//
//   - READY=1 once the daemon is up: configuration loaded, log open, pid
//     file written (systemctl start returns then, not before);
//   - STATUS= after each poll ("last poll: 3 messages from 2 accounts, next
//     in 300 s"), shown by systemctl status;
//   - STOPPING=1 as soon as it is told to quit;
//   - WATCHDOG=1 every half WatchdogSec (WATCHDOG_USEC), sent by the daemon
//     loop itself and only while it is healthy: waiting for the next poll,
//     or polling with a sign of life (a message finished) within the stall
//     limit. A hung loop stops the pings and systemd restarts the daemon.
//
// Without NOTIFY_SOCKET in the environment (no Type=notify supervisor) it
// sends nothing, and poll and sleep only run the poll and wait. The
// environment is left as it is: a program the daemon runs (an MDA, a
// plugin) that writes to the socket is not the main process, and systemd
// ignores it (NotifyAccess=main, the default).
type sdNotifier struct {
	log      *slog.Logger
	enabled  bool          // NOTIFY_SOCKET is set
	watchdog time.Duration // WATCHDOG_USEC meant for this process; 0: none
	failed   bool          // a notification failed (and that was logged)
	stopping bool          // STOPPING=1 was sent
	stalled  bool          // the pings stopped for a stalled poll (logged)
	lastLife atomic.Int64  // UnixNano of the running poll's last sign of life
	rcNote   string        // appended to each poll's STATUS: the rc file does not load
}

// newSDNotifier reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID. A
// watchdog setting it cannot read is logged and ignored.
func newSDNotifier(log *slog.Logger) *sdNotifier {
	n := &sdNotifier{log: log, enabled: os.Getenv("NOTIFY_SOCKET") != ""}
	if !n.enabled {
		return n
	}
	wd, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		log.Warn(fmt.Sprintf("systemd watchdog: %v; sending no keep-alives", err))
	}
	n.watchdog = wd
	return n
}

// send writes one notification; a failure is logged once, not per poll.
func (n *sdNotifier) send(state string) {
	if !n.enabled {
		return
	}
	if _, err := daemon.SdNotify(false, state); err != nil && !n.failed {
		n.failed = true
		n.log.Warn(fmt.Sprintf("cannot notify the service manager at NOTIFY_SOCKET=%s: %v", os.Getenv("NOTIFY_SOCKET"), err))
	}
}

// ready says that the daemon is up and about to poll for the first time.
func (n *sdNotifier) ready() {
	n.send(daemon.SdNotifyReady + "\nSTATUS=polling")
}

// status sets the one line systemctl status shows.
func (n *sdNotifier) status(s string) {
	n.send("STATUS=" + strings.ReplaceAll(s, "\n", " "))
}

// polled sets the STATUS after a poll (pollStatus), with what rcBroken
// says, if anything.
func (n *sdNotifier) polled(r pollResult, interval int) {
	n.status(pollStatus(r, interval) + n.rcNote)
}

// rcBroken records that the changed rc file does not load (code is the
// status it would exit with): each STATUS says so until it loads again.
// code 0 means it loads again.
func (n *sdNotifier) rcBroken(rcpath string, code int) {
	n.rcNote = ""
	if code != 0 {
		n.rcNote = fmt.Sprintf(" (the rc file %s changed and does not load, status %d: polling with the previous configuration)", rcpath, code)
	}
}

// stop says, once, that the daemon is shutting down.
func (n *sdNotifier) stop() {
	if n.stopping {
		return
	}
	n.stopping = true
	n.send(daemon.SdNotifyStopping + "\nSTATUS=stopping")
}

// ticks returns the keep-alive ticker's channel, nil (never ready) when
// there is no watchdog, and the function that stops the ticker.
func (n *sdNotifier) ticks() (<-chan time.Time, func()) {
	if n.watchdog <= 0 {
		return nil, func() {}
	}
	t := time.NewTicker(n.watchdog / 2)
	return t.C, t.Stop
}

func (n *sdNotifier) ping() {
	if !n.stopping {
		n.send(daemon.SdNotifyWatchdog)
	}
}

// progress wraps a fetch.Options.Progress function: each finished message
// is a sign of life of the running poll.
func (n *sdNotifier) progress(next func(fetch.Progress)) func(fetch.Progress) {
	return func(p fetch.Progress) {
		n.lastLife.Store(time.Now().UnixNano())
		if next != nil {
			next(p)
		}
	}
}

// pollResult is what one daemon cycle returns.
type pollResult struct {
	code    int
	results []fetch.Result
}

// poll runs one cycle in its own goroutine and waits for it, pinging the
// watchdog while the poll shows a sign of life (its start, or a finished
// message) within stall; a poll silent for longer is taken as hung: the
// pings stop, with one error line, and systemd restarts the daemon (mail
// is deleted on the server only once delivered, so nothing is lost). A
// cancelled ctx sends STOPPING=1 at once; poll still waits for the cycle
// to end (it ends promptly: its network calls take ctx).
func (n *sdNotifier) poll(ctx context.Context, stall time.Duration, cycle func() pollResult) pollResult {
	n.lastLife.Store(time.Now().UnixNano())
	n.stalled = false
	done := make(chan pollResult, 1)
	go func() { done <- cycle() }()
	tick, stopTick := n.ticks()
	defer stopTick()
	cancelled := ctx.Done()
	for {
		select {
		case r := <-done:
			return r
		case <-cancelled:
			n.stop()
			cancelled = nil
		case <-tick:
			silent := time.Since(time.Unix(0, n.lastLife.Load()))
			if silent < stall {
				n.ping()
			} else if !n.stalled {
				n.stalled = true
				n.log.Error(fmt.Sprintf("the poll has shown no progress for %s; no longer telling systemd's watchdog that all is well, so that it restarts gofetchmail", silent.Round(time.Second)))
			}
		}
	}
}

// sleep waits d for the next poll, pinging the watchdog meanwhile. It
// returns the signal that woke it early, or nil when the time was up or
// ctx was cancelled (then it sends STOPPING=1).
func (n *sdNotifier) sleep(ctx context.Context, wake <-chan os.Signal, d time.Duration) os.Signal {
	t := time.NewTimer(d)
	defer t.Stop()
	tick, stopTick := n.ticks()
	defer stopTick()
	for {
		select {
		case <-ctx.Done():
			n.stop()
			return nil
		case sig := <-wake:
			return sig
		case <-t.C:
			return nil
		case <-tick:
			n.ping()
		}
	}
}

// stallLimit is how long a poll may go without finishing a message before
// it counts as hung: four times the longest server timeout of the rc file
// (fetchmail's default timeout, 300 s, when none is set), so that one slow
// but live step (a connect, a login, a large message) never trips it.
func stallLimit(cfg *rcparse.Config) time.Duration {
	longest := 300
	for _, s := range cfg.Servers {
		if s.Timeout > longest {
			longest = s.Timeout
		}
	}
	return 4 * time.Duration(longest) * time.Second
}

// pollStatus is the STATUS= line after a poll: "last poll: 3 messages from
// 2 accounts, next in 300 s", "last poll: no new mail (2 accounts), next in
// 300 s"; messages not delivered (an MDA that failed) or too large are
// counted as left on the server; failures add "1 of 2 accounts failed:
// connect to ...: connection refused;" with the first error.
func pollStatus(r pollResult, interval int) string {
	messages, from, skipped, failed := 0, 0, 0, 0
	firstErr := ""
	for _, res := range r.results {
		messages += res.Delivered
		skipped += res.Skipped
		if res.Delivered > 0 {
			from++
		}
		if res.Err != nil {
			failed++
			if firstErr == "" {
				firstErr = res.Err.Error()
			}
		}
	}
	next := fmt.Sprintf("next in %d s", interval)
	var b strings.Builder
	b.WriteString("last poll: ")
	switch {
	case len(r.results) == 0 && r.code != int(fetch.StatusNoMail):
		// The cycle did not get to polling: the rc file's entries or the
		// idfile; the log says what.
		fmt.Fprintf(&b, "failed (status %d, see the log); %s", r.code, next)
		return b.String()
	case len(r.results) == 0:
		return b.String() + "no account due in this cycle (interval); " + next
	}
	sep := ""
	switch {
	case messages > 0:
		fmt.Fprintf(&b, "%s from %s", plural(messages, "message"), plural(from, "account"))
		sep = ", "
	case skipped == 0 && failed < len(r.results):
		fmt.Fprintf(&b, "no new mail (%s)", plural(len(r.results)-failed, "account"))
		sep = ", "
	}
	if skipped > 0 {
		fmt.Fprintf(&b, "%s%s left on the server (see the log)", sep, plural(skipped, "message"))
		sep = ", "
	}
	if failed > 0 {
		if sep != "" {
			b.WriteString("; ")
		}
		if len(firstErr) > 160 {
			firstErr = strings.ToValidUTF8(firstErr[:157], "") + "..."
		}
		fmt.Fprintf(&b, "%d of %s failed: %s;", failed, plural(len(r.results), "account"), firstErr)
		return b.String() + " " + next
	}
	return b.String() + ", " + next
}

// plural: "1 message", "3 messages".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

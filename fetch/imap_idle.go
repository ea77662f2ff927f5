package fetch

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gofetchmail/gofetchmail/rcparse"
)

// IMAP IDLE in the daemon, for every entry and folder that asks for it
// (fetchmail allows one, and blocks every other poll while idling). Each
// (entry, folder) gets its own goroutine, connection and dialer: it polls
// the folder, then waits in IDLE and polls again as soon as the server
// announces new mail, and after every idletimeout (28 minutes by default). A
// server without IDLE (and no forceidle) is asked with NOOP every 28
// seconds instead, as fetchmail does. A dropped connection is reopened
// with a growing pause. The regular poll cycle skips these entries.

// noopInterval is fetchmail's NOOP period for servers without IDLE. It is
// a variable only so that tests can lower it.
var noopInterval = 28 * time.Second

// defaultIdleTimeout is fetchmail's re-IDLE period (6.5's idletimeout).
const defaultIdleTimeout = 1680 * time.Second

// idleWanted reports whether j is served by IDLE sessions in a daemon.
func idleWanted(j Job) bool {
	return j.User.Idle && strings.EqualFold(j.Server.Protocol, "IMAP")
}

// idlers are the running IDLE sessions of a Runner, keyed by entry and
// folder.
type idlers struct {
	mu      sync.Mutex
	running map[string]context.CancelFunc
	wg      sync.WaitGroup
	uids    *UIDStore       // shared by the idlers and the poll cycles
	cfg     *rcparse.Config // the configuration they run with
}

// startIdlers starts an IDLE goroutine for each idle entry and folder not
// already served, and returns the jobs the poll cycle must still poll. A
// reloaded configuration restarts them all.
func (r *Runner) startIdlers(ctx context.Context, jobs []Job, uids *UIDStore) []Job {
	if len(jobs) > 0 && r.idle.cfg != nil && jobs[0].Config != r.idle.cfg {
		r.idle.mu.Lock()
		n := len(r.idle.running)
		r.idle.mu.Unlock()
		if n > 0 { // said only when there is something to restart
			r.opts.logger().Info("configuration reloaded: restarting the IDLE sessions")
		}
		r.stopIdlers()
		r.idle.running, r.idle.uids = nil, nil
	}
	var rest []Job
	r.idle.mu.Lock()
	defer r.idle.mu.Unlock()
	if len(jobs) > 0 {
		r.idle.cfg = jobs[0].Config
	}
	for _, j := range jobs {
		if !idleWanted(j) {
			rest = append(rest, j)
			continue
		}
		if r.idle.running == nil {
			r.idle.running = map[string]context.CancelFunc{}
		}
		if r.idle.uids == nil {
			r.idle.uids = uids
		}
		folders := j.User.Mailboxes
		if len(folders) == 0 {
			folders = []string{"INBOX"}
		}
		for _, f := range folders {
			key := j.Label() + "\x00" + f
			if _, ok := r.idle.running[key]; ok {
				continue
			}
			jf := j
			u := *j.User
			u.Mailboxes = []string{f}
			jf.User = &u
			ictx, cancel := context.WithCancel(ctx)
			r.idle.running[key] = cancel
			r.idle.wg.Add(1)
			go func() {
				defer r.idle.wg.Done()
				r.idleLoop(ictx, jf, f, r.idle.uids)
			}()
		}
	}
	return rest
}

// Store returns the UID store a daemon cycle must use for the idfile at
// path: the one the IDLE sessions share when they run (two instances of
// one file would overwrite each other's lines), else a fresh load.
func (r *Runner) Store(path string) (*UIDStore, error) {
	r.idle.mu.Lock()
	st := r.idle.uids
	r.idle.mu.Unlock()
	if st != nil && st.Path() == path {
		return st, nil
	}
	return LoadUIDStore(path)
}

// stopIdlers ends the IDLE sessions and waits for them.
func (r *Runner) stopIdlers() {
	r.idle.mu.Lock()
	for _, cancel := range r.idle.running {
		cancel()
	}
	r.idle.mu.Unlock()
	r.idle.wg.Wait()
}

// idleLoop serves one entry and folder until ctx ends, reconnecting after
// failures.
func (r *Runner) idleLoop(ctx context.Context, j Job, folder string, uids *UIDStore) {
	log := r.opts.logger()
	pause := 2 * time.Second
	for ctx.Err() == nil {
		d := newDialer(&r.opts)
		started := time.Now()
		err := r.idleSession(ctx, d, j, folder, uids)
		d.close()
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > time.Minute {
			pause = 2 * time.Second
		}
		log.Warn(fmt.Sprintf("%s: IDLE session on folder %s ended: %v; reconnecting in %s", j.Label(), folder, err, pause), "poll", j.Label())
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		pause = min(2*pause, 5*time.Minute)
	}
}

// idleSession is one connection: poll, then IDLE (or NOOP) and poll again
// on every announcement of new mail, until an error or ctx ends.
func (r *Runner) idleSession(ctx context.Context, d *dialer, j Job, folder string, uids *UIDStore) error {
	log := r.opts.logger()
	s := &session{job: j, opts: &r.opts, uids: uids, label: j.Label()}
	if err := s.imapConnect(ctx, d); err != nil {
		return err
	}
	defer s.imap.Close()
	// A silently dead SSH server would otherwise go unnoticed until the
	// next idletimeout: its keepalives close the channel, ending the IDLE.
	for _, c := range d.clients {
		c.StartKeepalive(DaemonKeepalive, 3)
	}
	poll := func() error {
		s.res, s.sub = Result{}, nil // fetchlimit counts per poll
		err := s.poll(ctx, s.imapBox(folder))
		s.reportKeepdays()
		s.closeTarget()
		if err != nil {
			return err
		}
		if s.res.Delivered > 0 {
			log.Info(fmt.Sprintf("%s: %d messages delivered from folder %s (IDLE)", s.label, s.res.Delivered, folder), "poll", s.label)
		}
		return nil
	}
	if err := poll(); err != nil {
		return err
	}
	caps, err := s.imap.Caps(ctx)
	if err != nil {
		return err
	}
	useIdle := caps.Has("IDLE") || j.User.Forceidle
	wait := defaultIdleTimeout
	if t := j.Server.IdleTimeout; t > 0 {
		wait = time.Duration(t) * time.Second
	}
	if !useIdle {
		log.Info(fmt.Sprintf("%s: the server has no IDLE; polling folder %s with NOOP every %s", s.label, folder, noopInterval), "poll", s.label)
	}
	for {
		var got bool
		if useIdle {
			log.Debug("IDLE on folder "+folder, "poll", s.label)
			got, err = s.imap.Idle(ctx, wait)
		} else {
			t := time.NewTimer(noopInterval)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
			got, err = s.imap.Noop(ctx)
		}
		if err != nil {
			return err
		}
		// After an announcement, and after every idletimeout too (as
		// fetchmail does): a poll also catches what a server failed to
		// announce.
		if got || useIdle {
			if err := poll(); err != nil {
				return err
			}
		}
	}
}

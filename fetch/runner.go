package fetch

import (
	"context"
	"sync"
	"time"

	"github.com/gofetchmail/gofetchmail/transport"
)

// DaemonKeepalive is how often a Runner checks, between polls, that a kept
// SSH connection is alive; three unanswered checks close it.
const DaemonKeepalive = 60 * time.Second

// Runner runs poll cycles again and again (the daemon) with one set of SSH
// connections: a connection opened by one cycle stays open, with
// keepalives, for the next, so a daemon does not log in to the SSH server at
// every poll. A connection that died in between is dropped and dialed anew.
// Run (the one-shot form) opens and closes its connections in one call.
type Runner struct {
	opts    Options
	d       *dialer
	mu      sync.Mutex
	watched map[*transport.SSHClient]bool
	dead    map[*transport.SSHClient]bool
	idle    idlers // IMAP IDLE sessions (imap_idle.go)
}

// NewRunner makes a Runner; Close it to close its connections.
func NewRunner(opts Options) *Runner {
	r := &Runner{opts: opts, watched: map[*transport.SSHClient]bool{}, dead: map[*transport.SSHClient]bool{}}
	r.opts.fillProcess()
	r.d = newDialer(&r.opts)
	return r
}

// Run polls every job in order, as the package-level Run does, reusing the
// SSH connections of earlier cycles that are still alive. IMAP entries with
// idle are handed to IDLE sessions that run on between cycles (see
// imap_idle.go) instead; uids should come from Store.
func (r *Runner) Run(ctx context.Context, jobs []Job, uids *UIDStore) []Result {
	r.prune()
	if err := r.opts.theLedger().Recover(uids, r.opts.logger()); err != nil {
		r.opts.logger().Error(err.Error())
	}
	jobs = r.startIdlers(ctx, jobs, uids)
	out := make([]Result, 0, len(jobs))
	for _, j := range jobs {
		res := pollOne(ctx, r.d, j, uids, &r.opts)
		r.opts.done(res)
		out = append(out, res)
	}
	r.watch()
	return out
}

// Close ends the IDLE sessions and closes the kept connections.
func (r *Runner) Close() {
	r.stopIdlers()
	r.d.close()
}

// prune drops the connections that died since the last cycle.
func (r *Runner) prune() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, c := range r.d.clients {
		if r.dead[c] {
			r.opts.logger().Debug("the kept SSH connection is gone; the next poll dials again", "addr", c.RemoteAddr())
			c.Close()
			delete(r.d.clients, k)
			delete(r.dead, c)
			delete(r.watched, c)
		}
	}
}

// watch starts keepalives on the connections opened by this cycle and
// notes when one ends.
func (r *Runner) watch() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.d.clients {
		if r.watched[c] {
			continue
		}
		r.watched[c] = true
		c.StartKeepalive(DaemonKeepalive, 3)
		go func(c *transport.SSHClient) {
			c.Wait()
			r.mu.Lock()
			r.dead[c] = true
			r.mu.Unlock()
		}(c)
	}
}

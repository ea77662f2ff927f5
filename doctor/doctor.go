package doctor

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/gofetchmail/gofetchmail/fetch"
	"github.com/gofetchmail/gofetchmail/rcparse"
)

// Config is what Run needs from the command line.
type Config struct {
	RCPath string          // the rc file
	Parse  rcparse.Options // how to read it (home, user, root)
	Names  []string        // the servers named on the command line; none: all
	Out    io.Writer       // where the lines go
	// Select picks the accounts to check from the parsed rc file and the
	// names (the command's selectJobs); Prepare, if set, applies the
	// command line's overrides first.
	Select  func(cfg *rcparse.Config, names []string) ([]fetch.Job, error)
	Prepare func(cfg *rcparse.Config) error
	// Fetch are the options of the probe (Home, Password prompt, NetrcFile,
	// NoBuiltinSSH); its Logger should discard, the lines say it all.
	Fetch fetch.Options
}

// Line is one step's verdict.
type Line struct {
	Account string // "" for the rc file
	Step    string
	OK      bool
	Detail  string
	Fix     string
	Status  fetch.Status
}

// String is the line as printed: "✔ step: detail" or
// "✘ step: detail; next: fix".
func (l Line) String() string {
	mark := "✔"
	if !l.OK {
		mark = "✘"
	}
	s := fmt.Sprintf("%s %-9s %s", mark, l.Step, l.Detail)
	if !l.OK && l.Fix != "" {
		s += "; next: " + l.Fix
	}
	return s
}

// printer writes lines, masking every password the rc file holds.
type printer struct {
	out     io.Writer
	secrets []string
	first   fetch.Status // of the first failure
	failed  bool
}

func (p *printer) line(l Line) {
	s := l.String()
	for _, sec := range p.secrets {
		s = strings.ReplaceAll(s, sec, "*****")
	}
	fmt.Fprintln(p.out, s)
	if !l.OK && !p.failed {
		p.failed, p.first = true, l.Status
		if p.first == 0 {
			p.first = fetch.StatusUndefined
		}
	}
}

// secretsOf lists the secrets written in the rc file, longest first so
// that no shorter one breaks a longer one's mask.
func secretsOf(cfg *rcparse.Config) []string {
	var out []string
	for _, s := range cfg.Servers {
		if s.Esmtppassword != nil && *s.Esmtppassword != "" {
			out = append(out, *s.Esmtppassword)
		}
		for _, u := range s.Users {
			if u.Password != nil && *u.Password != "" {
				out = append(out, *u.Password)
			}
		}
	}
	for i := range out { // insertion sort by length, descending
		for j := i; j > 0 && len(out[j]) > len(out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// Run checks the rc file and every selected account and returns the exit
// status: 0 when all are healthy, else fetchmail's status of the first
// failure.
func Run(ctx context.Context, c Config) int {
	p := &printer{out: c.Out}
	fmt.Fprintf(c.Out, "gofetchmail doctor: %s\n", c.RCPath)
	cfg := checkRC(c, p)
	if cfg == nil {
		return int(p.first)
	}
	jobs, err := c.Select(cfg, c.Names)
	if err != nil {
		p.line(Line{Step: "rc file", Detail: err.Error(), Fix: "name a server as its poll or via line says, or none for all", Status: fetch.StatusSyntax})
		return int(p.first)
	}
	if len(jobs) == 0 {
		p.line(Line{Step: "rc file", Detail: "no mailservers have been specified", Fix: "add a poll entry (docs/migrating-from-fetchmail.md)", Status: fetch.StatusSyntax})
		return int(p.first)
	}
	uids, err := fetch.LoadUIDStore(cfg.Idfile) // only read: never saved
	if err != nil {
		p.line(Line{Step: "idfile", Detail: err.Error(), Fix: "the idfile must be yours, a plain file, not writable by others", Status: fetch.StatusIOErr})
		return int(p.first)
	}
	for _, j := range jobs {
		fmt.Fprintf(c.Out, "%s:\n", j.Label())
		checkAccount(ctx, c, p, j, uids)
	}
	if !p.failed {
		return 0
	}
	return int(p.first)
}

// checkAccount runs the server steps, then the delivery target's.
func checkAccount(ctx context.Context, c Config, p *printer, j fetch.Job, uids *fetch.UIDStore) {
	_, ok := fetch.Probe(ctx, j, uids, c.Fetch, func(s fetch.ProbeStep) {
		p.line(Line{Account: j.Label(), Step: s.Name, OK: s.OK, Detail: s.Detail, Fix: s.Fix, Status: s.Status})
	})
	if !ok {
		return
	}
	for _, l := range checkTarget(ctx, j, c.Fetch) {
		l.Account = j.Label()
		p.line(l)
		if !l.OK {
			return
		}
	}
}

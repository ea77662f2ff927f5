package fetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gofetchmail/gofetchmail/rcparse"
	"github.com/gofetchmail/gofetchmail/transport"
)

// route says how the POP3 bytes of one poll travel.
type route struct {
	kind       string // "tcp", "ssh", "plugin"
	host       string // the mail server as the transport sees it
	port       int
	sshTarget  transport.SSHTarget
	sshFrom    string   // "preconnect", "sshtunnel" or "plugin"
	exec       []string // remote command of an ssh plugin (exec channel), nil for a forward
	plugin     string   // kind "plugin": the command, %h and %p substituted
	preconnect string   // a preconnect that must run through /bin/sh
	compressed bool     // the ssh -L forward asked for -C
	original   string   // the translated preconnect and the poll target, for the fallback
	origHost   string
	origPort   int
}

// overSSH reports whether the POP3 session is inside an SSH channel.
func (r *route) overSSH() bool { return r.kind == "ssh" }

// describe is the one line at normal level that says which path a poll takes.
func (r *route) describe() string {
	switch r.kind {
	case "ssh":
		t := r.sshTarget
		who := t.Host
		if t.User != "" {
			who = t.User + "@" + who
		}
		if t.Port != 0 {
			who += ":" + strconv.Itoa(t.Port)
		}
		how := "sshtunnel"
		switch r.sshFrom {
		case "preconnect":
			how = "preconnect ssh -L translated; no ssh process, no local port"
		case "plugin":
			how = "plugin ssh translated; no ssh process"
		}
		if r.exec != nil {
			return fmt.Sprintf("in-process SSH exec channel via %s running %q (%s)", who, strings.Join(r.exec, " "), how)
		}
		return fmt.Sprintf("in-process SSH channel via %s to %s (%s)", who, net.JoinHostPort(r.host, strconv.Itoa(r.port)), how)
	case "plugin":
		return "plugin command"
	}
	s := "TCP to " + net.JoinHostPort(r.host, strconv.Itoa(r.port))
	if r.preconnect != "" {
		s += " after preconnect command"
	}
	return s
}

// queryName is the name fetchmail contacts and keys UIDs by: via, else the
// poll name.
func queryName(s *rcparse.Server) string {
	if s.Via != nil && *s.Via != "" {
		return *s.Via
	}
	return s.Pollname
}

// servicePort resolves the rc "port"/"service" value or the protocol default.
func servicePort(s *rcparse.Server, u *rcparse.User) (int, error) {
	if s.Port != nil && *s.Port != "" {
		p := *s.Port
		if n, err := strconv.Atoi(p); err == nil {
			if n <= 0 || n > 65535 {
				return 0, fmt.Errorf("invalid port %q", p)
			}
			return n, nil
		}
		n, err := net.LookupPort("tcp", p)
		if err != nil {
			switch p { // /etc/services may be missing
			case "pop3":
				return 110, nil
			case "pop3s":
				return 995, nil
			case "imap", "imap2":
				return 143, nil
			case "imaps":
				return 993, nil
			}
			return 0, fmt.Errorf("unknown service %q", p)
		}
		return n, nil
	}
	if strings.EqualFold(s.Protocol, "IMAP") {
		if u.SSL {
			return 993, nil
		}
		return 143, nil
	}
	if u.SSL {
		return 995, nil
	}
	return 110, nil
}

// chooseRoute decides, from the config and the options, how to reach the
// server: the explicit sshtunnel, a translated preconnect ssh -L forward, a
// plugin command, or TCP (after running a preconnect through the shell).
func chooseRoute(s *rcparse.Server, u *rcparse.User, opts *Options) (*route, error) {
	port, err := servicePort(s, u)
	if err != nil {
		return nil, err
	}
	r := &route{kind: "tcp", host: queryName(s), port: port}

	if s.SSHTunnel != nil && *s.SSHTunnel != "" {
		tunnel := *s.SSHTunnel
		t, err := transport.ParseSSHTunnelSpec(tunnel)
		if err != nil {
			return nil, &rcparse.SyntaxError{File: "sshtunnel", Token: tunnel, Msg: err.Error()}
		}
		r.kind, r.sshTarget, r.sshFrom = "ssh", t, "sshtunnel"
		if u.Preconnect != nil && *u.Preconnect != "" {
			r.preconnect = *u.Preconnect
		}
		return r, nil
	}
	if u.Preconnect != nil && *u.Preconnect != "" {
		pre := *u.Preconnect
		if !opts.NoBuiltinSSH {
			if fw, err := transport.ParseSSHForward(pre); err == nil && fw.Matches(r.host, port) {
				r.kind, r.sshTarget, r.sshFrom = "ssh", fw.Target, "preconnect"
				r.original, r.origHost, r.origPort = pre, r.host, r.port
				r.host, r.port = fw.RemoteHost, fw.RemotePort
				r.compressed = fw.Compression
				return r, nil
			}
		}
		r.preconnect = pre
	}
	if s.Plugin != nil && *s.Plugin != "" {
		r.kind = "plugin"
		cmd := pluginCommand(*s.Plugin, r.host, r.port)
		r.plugin = cmd
		if p, err := transport.ParseSSHPlugin(cmd); err == nil && !opts.NoBuiltinSSH {
			r.kind, r.sshTarget, r.sshFrom = "ssh", p.Target, "plugin"
			r.original, r.origHost, r.origPort = cmd, r.host, r.port
			if p.Command != nil {
				r.exec = p.Command
			} else {
				r.host, r.port = p.Host, p.Port
			}
		}
	}
	return r, nil
}

// pluginCommand substitutes %h and %p as fetchmail does.
//
// A word of the template that starts with "~" or "~user" is expanded as
// in the rc file's paths ("plugin ~/bin/tunnel %h %p"): fetchmail splits
// the command on whitespace and runs it without a shell, so no shell
// would. The words are rejoined with single spaces, which changes nothing
// for that split.
func pluginCommand(tmpl, host string, port int) string {
	if words := strings.Fields(tmpl); len(words) > 0 {
		changed := false
		for i, w := range words {
			if e, err := rcparse.ExpandTilde(w); err == nil && e != w {
				words[i], changed = e, true
			}
		}
		if changed {
			tmpl = strings.Join(words, " ")
		}
	}
	r := strings.NewReplacer("%h", host, "%p", strconv.Itoa(port), "%%", "%")
	return r.Replace(tmpl)
}

// dialer holds the SSH clients opened during one run so that several poll
// entries through the same SSH host share one connection.
type dialer struct {
	opts    *Options
	clients map[string]*transport.SSHClient
}

func newDialer(opts *Options) *dialer {
	return &dialer{opts: opts, clients: map[string]*transport.SSHClient{}}
}

func (d *dialer) close() {
	for k, c := range d.clients {
		c.Close()
		delete(d.clients, k)
	}
}

func sshKey(t transport.SSHTarget) string {
	return fmt.Sprintf("%s@%s:%d|%v|%v", t.User, t.Host, t.Port, t.IdentityFiles, t.Options)
}

// dial opens the byte stream for one poll.
func (d *dialer) dial(ctx context.Context, r *route, s *rcparse.Server, timeout time.Duration) (net.Conn, error) {
	log := d.opts.logger()
	if r.preconnect != "" {
		log.Debug("running preconnect", "command", r.preconnect)
		if err := transport.RunShell(ctx, r.preconnect, os.Stderr, os.Stderr); err != nil {
			return nil, fmt.Errorf("preconnect: %w", err)
		}
	}
	switch r.kind {
	case "ssh":
		if r.compressed {
			log.Debug("ssh -C asked for compression; the in-process SSH transport (x/crypto/ssh) has none, the channel is uncompressed")
		}
		key := sshKey(r.sshTarget)
		c, ok := d.clients[key]
		if !ok {
			var err error
			c, err = transport.DialSSH(ctx, r.sshTarget, transport.SSHOptions{
				Home:           d.opts.Home,
				Password:       d.opts.Password,
				Logger:         log,
				ConnectTimeout: timeout,
			})
			if errors.Is(err, transport.ErrUnsupported) && r.original != "" {
				// Something in the ssh setup (ProxyCommand, say) needs the
				// real ssh: run the preconnect as fetchmail would.
				log.Info("the in-process SSH client cannot do this ssh setup; running the command as fetchmail would", "command", r.original, "reason", err)
				fb := &route{kind: "tcp", host: r.origHost, port: r.origPort, preconnect: r.original}
				if r.sshFrom == "plugin" {
					fb = &route{kind: "plugin", host: r.origHost, port: r.origPort, plugin: r.original}
				}
				*r = *fb
				return d.dial(ctx, r, s, timeout)
			}
			if err != nil {
				if r.sshFrom == "preconnect" && ctx.Err() == nil {
					return nil, translatedPreconnectError(err)
				}
				return nil, err
			}
			d.clients[key] = c
		}
		debugSSH(d.opts, c, ok)
		var (
			conn net.Conn
			err  error
		)
		if r.exec != nil {
			conn, err = c.Exec(ctx, r.exec)
		} else {
			conn, err = c.DialContext(ctx, "tcp", net.JoinHostPort(r.host, strconv.Itoa(r.port)))
		}
		if err != nil {
			// A broken shared connection is dropped so the next poll redials.
			c.Close()
			delete(d.clients, key)
			return nil, fmt.Errorf("ssh channel to %s:%d via %s: %w", r.host, r.port, c.RemoteAddr(), err)
		}
		debugChannel(d.opts, r)
		return conn, nil
	case "plugin":
		return transport.DialCommand(ctx, pluginCommand(*s.Plugin, r.host, r.port))
	}
	return transport.DialTCP(ctx, net.JoinHostPort(r.host, strconv.Itoa(r.port)), timeout)
}

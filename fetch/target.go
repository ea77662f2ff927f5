package fetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gofetchmail/gofetchmail/deliver"
	"github.com/gofetchmail/gofetchmail/transport"
)

// defaultSMTPHosts is where mail goes when the rc file names no delivery at
// all: fetchmail's default smtphost (a variable for tests).
var defaultSMTPHosts = []string{"localhost"}

// smtpProbeTimeout bounds the attempt to reach the default SMTP host.
const smtpProbeTimeout = 15 * time.Second

// openTarget chooses the delivery target of a job, in this order:
//
//  1. the gofetchmail extensions maildir and mbox (which --maildir and
//     --mbox override);
//  2. bsmtp, then mda, as fetchmail ranks them;
//  3. SMTP or LMTP when the rc file asks for it: lmtp, an smtphost other
//     than the default, smtpaddress, smtpname or esmtppassword;
//  4. otherwise fetchmail's default, SMTP to localhost port 25, if
//     something answers there; if nothing does, the local user's mailbox
//     (~/Maildir when it exists, else the system mbox), logged once.
func openTarget(j Job, opts *Options) (deliver.Deliverer, error) {
	u := j.User
	open := func(kind, target string) (deliver.Deliverer, error) {
		if opts.NewDeliverer != nil {
			return opts.NewDeliverer(kind + " " + target)
		}
		switch kind {
		case "maildir":
			return deliver.NewMaildir(target, nil)
		case "mbox":
			return deliver.NewMbox(target, nil)
		case "mda":
			return deliver.NewMDA(target, nil)
		case "bsmtp":
			return deliver.NewBSMTP(target, &deliver.BSMTPOptions{Address: str(u.Smtpaddress), Name: str(u.Smtpname)})
		}
		return nil, fmt.Errorf("unknown delivery target %q", kind)
	}
	switch {
	case u.Maildir != nil && *u.Maildir != "":
		return open("maildir", *u.Maildir)
	case u.Mbox != nil && *u.Mbox != "":
		return open("mbox", *u.Mbox)
	case u.BSMTP != nil && *u.BSMTP != "":
		return open("bsmtp", *u.BSMTP)
	case u.MDA != nil && *u.MDA != "":
		return open("mda", *u.MDA)
	}
	so := smtpOptions(j, opts)
	if smtpExplicit(j) {
		if opts.NewDeliverer != nil {
			return opts.NewDeliverer(smtpTargetName(so))
		}
		return deliver.NewSMTP(so)
	}
	so.Hosts = defaultSMTPHosts
	s, err := deliver.NewSMTP(so)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), smtpProbeTimeout)
	defer cancel()
	if perr := s.Connect(ctx); perr != nil {
		s.Close()
		return openLocal(opts, open, perr)
	}
	if opts.NewDeliverer != nil {
		s.Close()
		return opts.NewDeliverer(smtpTargetName(so))
	}
	return s, nil
}

// smtpExplicit reports whether the rc file asks for SMTP/LMTP delivery.
func smtpExplicit(j Job) bool {
	u := j.User
	return u.LMTP || (len(u.Smtphunt) > 0 && !slices.Equal(u.Smtphunt, []string{"localhost"})) ||
		str(u.Smtpaddress) != "" || str(u.Smtpname) != "" ||
		(j.Server != nil && j.Server.Esmtppassword != nil)
}

// smtpOptions maps the rc options of a job onto deliver.SMTPOptions.
func smtpOptions(j Job, opts *Options) *deliver.SMTPOptions {
	u := j.User
	so := &deliver.SMTPOptions{
		Hosts:      u.Smtphunt,
		LMTP:       u.LMTP,
		Address:    str(u.Smtpaddress),
		Name:       str(u.Smtpname),
		Helo:       opts.Hostname,
		Antispam:   u.Antispam,
		BatchLimit: u.Batchlimit,
		Logger:     opts.logger(),
	}
	if j.Config != nil {
		so.Postmaster = j.Config.Postmaster
	}
	if s := j.Server; s != nil {
		if s.Timeout > 0 {
			so.Timeout = time.Duration(s.Timeout) * time.Second
		}
		// As in fetchmail, AUTH needs esmtppassword; esmtpname defaults
		// to the login name.
		if s.Esmtppassword != nil {
			so.AuthUser, so.AuthPassword = str(s.Esmtpname), *s.Esmtppassword
		}
		if j.Config != nil && j.Config.Invisible {
			so.Helo = queryName(s)
		}
		if s.Plugout != nil && *s.Plugout != "" {
			so.Dial = plugoutDialer(*s.Plugout)
		}
	}
	return so
}

// plugoutDialer reaches the SMTP host through fetchmail's plugout command
// (%h and %p substituted, the session over its stdin and stdout) instead of
// a TCP connection. Unix-socket (LMTP) hosts are dialled directly.
func plugoutDialer(tmpl string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if network == "unix" {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("plugout: port %q: %w", port, err)
		}
		return transport.DialCommand(ctx, pluginCommand(tmpl, host, p))
	}
}

// smtpTargetName is the NewDeliverer name of an SMTP target: "smtp HOSTS"
// or "lmtp HOSTS".
func smtpTargetName(so *deliver.SMTPOptions) string {
	hosts := so.Hosts
	if len(hosts) == 0 {
		hosts = defaultSMTPHosts
	}
	if so.LMTP {
		return "lmtp " + strings.Join(hosts, " ")
	}
	return "smtp " + strings.Join(hosts, " ")
}

// openLocal opens the local user's mailbox when the default SMTP host did
// not answer (perr says why).
func openLocal(opts *Options, open func(kind, target string) (deliver.Deliverer, error), perr error) (deliver.Deliverer, error) {
	home := opts.Home
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	if home != "" {
		md := filepath.Join(home, "Maildir")
		if fi, err := os.Stat(filepath.Join(md, "new")); err == nil && fi.IsDir() {
			logOnce(opts, "maildir "+md, "no SMTP server answers on localhost and no delivery target is configured; delivering to the local Maildir",
				"maildir", md, "smtp", perr.Error())
			return open("maildir", md)
		}
	}
	if cu, err := user.Current(); err == nil {
		mb := filepath.Join("/var/mail", cu.Username)
		if f, err := os.OpenFile(mb, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err == nil {
			f.Close()
			logOnce(opts, "mbox "+mb, "no SMTP server answers on localhost and no delivery target is configured; delivering to the system mailbox",
				"mbox", mb, "smtp", perr.Error())
			return open("mbox", mb)
		}
	}
	return nil, fmt.Errorf("no delivery target: no SMTP server answers on localhost (%w); give --maildir PATH or --mbox PATH, or set maildir \"PATH\", mbox \"PATH\", mda \"COMMAND\" or smtphost HOST in the rc file", perr)
}

// logOnce logs a fallback notice once per process (Options.firstNotice),
// so that a daemon says where mail goes once, not at every poll.
func logOnce(opts *Options, key, msg string, args ...any) {
	if !opts.firstNotice(key) {
		return
	}
	opts.logger().Info(msg, args...)
}

// str returns *p, or "" for nil.
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// headerOptions maps a job's header options onto the deliver header filter
// (deliver.NewHeaderFilter). The server name that rewrite appends is the
// name the mail server is reached by (via, else the poll name).
func headerOptions(j Job) deliver.HeaderOptions {
	u := j.User
	o := deliver.HeaderOptions{
		Rewrite:       u.Rewrite,
		DropStatus:    u.Dropstatus,
		DropDelivered: u.Dropdelivered,
		StripCR:       u.Stripcr,
		ForceCR:       u.Forcecr,
		MIMEDecode:    u.Mimedecode,
	}
	if j.Server != nil {
		o.Server = queryName(j.Server)
	}
	return o
}

// verdict is what the engine does with a message whose delivery failed.
type verdict int

const (
	// verdictKeep leaves the message on the server for the next poll.
	verdictKeep verdict = iota
	// verdictDelete deletes it: fetchmail's answer to a permanent SMTP
	// refusal (5xx, or an antispam code) when softbounce is off.
	verdictDelete
	// verdictStopPoll keeps it and ends the poll: no SMTP host answered, or
	// the disk is full or read-only, so the following messages would fail
	// too (fetchmail's PS_SMTP).
	verdictStopPoll
)

// deliveryVerdict classifies a delivery error by fetchmail's rules (see
// docs/delivery.md). Everything but a permanent SMTP refusal without
// softbounce keeps the message.
func deliveryVerdict(j Job, err error) verdict {
	var ce *deliver.ConnectError
	if errors.As(err, &ce) {
		return verdictStopPoll
	}
	// A full or read-only file system fails every following message too:
	// stop instead of downloading them all to fail each one.
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EROFS) {
		return verdictStopPoll
	}
	var se *deliver.SMTPError
	if errors.As(err, &se) && se.Permanent && j.Config != nil && !j.Config.Softbounce {
		return verdictDelete
	}
	return verdictKeep
}

package main

import (
	"errors"
	"path/filepath"
	"strings"

	"github.com/gofetchmail/gofetchmail/rcparse"
)

// resolveFlagPaths makes the paths given on the command line absolute (and
// expands a "~" the shell left) once, against the working directory the
// user ran the command in: a detached daemon runs in "/" and applies the
// command line again whenever it reloads a changed rc file.
func resolveFlagPaths(f *flags) {
	for _, p := range []*string{&f.idfile, &f.pidfile, &f.logfile, &f.sslkey, &f.sslcert,
		&f.sslcertfile, &f.sslcertpath, &f.bsmtp, &f.maildir, &f.mbox} {
		if *p == "" || *p == "-" {
			continue
		}
		v, _ := rcparse.ExpandTilde(*p)
		if !filepath.IsAbs(v) {
			if a, err := filepath.Abs(v); err == nil {
				v = a
			}
		}
		*p = v
	}
}

// applyOverrides lets command-line options override rc values for every
// selected entry, as fetchmail does. Relative paths given on the command line
// resolve against the working directory, and a leading "~" or "~user" is
// expanded (the shell leaves "--idfile=~/x" or a quoted "~" alone).
func applyOverrides(cfg *rcparse.Config, f *flags) error {
	str := func(s string) *string { return &s }
	abs := func(p string) string {
		p, _ = rcparse.ExpandTilde(p) // "--maildir=~/Mail": no shell expanded it
		if p == "" || p == "-" || filepath.IsAbs(p) {
			return p
		}
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	g := f.given
	if g("idfile") {
		cfg.Idfile = abs(f.idfile)
	}
	if g("pidfile") {
		cfg.Pidfile = str(abs(f.pidfile))
	}
	if g("logfile") {
		cfg.Logfile = str(abs(f.logfile))
	}
	if g("postmaster") {
		cfg.Postmaster = f.postmaster
	}
	if g("daemon") {
		cfg.Daemon = f.daemon
	}
	if g("syslog") {
		cfg.Syslog = true
	}
	if g("nosyslog") {
		cfg.Syslog = false
	}
	if g("invisible") {
		cfg.Invisible = true
	}
	if g("showdots") {
		cfg.Showdots = true
	}
	if g("nobounce") {
		cfg.Bouncemail = false
	}
	if g("softbounce") {
		cfg.Softbounce = true
	}
	if g("nosoftbounce") {
		cfg.Softbounce = false
	}
	antispam, err := parseAntispam(f.antispam)
	if err != nil {
		return err
	}
	if g("keepdays") && f.keepdays < 0 {
		return errors.New("--keepdays takes 0 or more days, not a negative number")
	}
	for _, s := range cfg.Servers {
		if g("protocol") || g("proto") {
			p := strings.ToUpper(f.proto)
			if p == "AUTO" {
				p = "auto"
			}
			s.Protocol = p
		}
		if g("service") {
			s.Port = str(f.service)
		}
		if g("port") {
			s.Port = str(f.port)
		}
		if g("auth") {
			s.Auth = f.auth
		}
		if g("timeout") && f.timeout > 0 {
			s.Timeout = f.timeout
		}
		if g("timeout") && f.timeout == 0 {
			s.Timeout = 300 // -t 0 means the default, also over an rc timeout
		}
		if g("envelope") {
			s.Envelope = str(f.envelope)
		}
		if g("qvirtual") {
			s.Qvirtual = str(f.qvirtual)
		}
		if g("uidl") {
			s.UIDL = true
		}
		if g("principal") {
			s.Principal = str(f.principal)
		}
		if g("tracepolls") {
			s.Tracepolls = true
		}
		if g("interface") {
			s.Interface = str(f.iface)
		}
		if g("monitor") {
			s.Monitor = str(f.monitor)
		}
		if g("plugin") {
			s.Plugin = str(f.plugin)
		}
		if g("plugout") {
			s.Plugout = str(f.plugout)
		}
		if g("bad-header") {
			s.Badheader = strings.ToLower(f.badheader)
		}
		if g("sshtunnel") {
			s.SSHTunnel = str(f.sshtunnel)
		}
		if g("idletimeout") {
			s.IdleTimeout = f.idletimeout
		}
		for _, u := range s.Users {
			applyUser(u, f, antispam, abs)
		}
	}
	return nil
}

func applyUser(u *rcparse.User, f *flags, antispam []int, abs func(string) string) {
	str := func(s string) *string { return &s }
	g := f.given
	if g("username") || g("user") {
		u.Remotename = f.user
	}
	if g("all") || g("fetchall") {
		u.Fetchall = true
	}
	if g("keep") {
		u.Keep = true
		u.Keepdays = nil // -k keeps everything: nothing is deleted after its days
	}
	if g("keepdays") {
		n := f.keepdays
		u.Keepdays = &n
	}
	if g("nokeep") {
		u.Keep = false
	}
	if g("flush") {
		u.Flush = true
	}
	if g("limitflush") {
		u.Limitflush = true
	}
	if g("norewrite") {
		u.Rewrite = false
	}
	if g("idle") {
		u.Idle = true
	}
	if g("forceidle") {
		u.Forceidle = true
	}
	if g("ssl") {
		u.SSL = true
	}
	if g("sslcertck") {
		u.SSLCertck = true
	}
	if g("nosslcertck") {
		u.SSLCertck = false
	}
	set := map[string]**string{
		"sslkey": &u.SSLKey, "sslcert": &u.SSLCert, "sslproto": &u.SSLProto,
		"sslcertfile": &u.SSLCertfile, "sslcertpath": &u.SSLCertpath,
		"sslcommonname": &u.SSLCommonname, "sslfingerprint": &u.SSLFingerprint,
		"mda": &u.MDA, "bsmtp": &u.BSMTP, "smtpaddress": &u.Smtpaddress, "smtpname": &u.Smtpname,
	}
	vals := map[string]string{
		"sslkey": abs(f.sslkey), "sslcert": abs(f.sslcert), "sslproto": f.sslproto,
		"sslcertfile": abs(f.sslcertfile), "sslcertpath": abs(f.sslcertpath),
		"sslcommonname": f.sslcommonname, "sslfingerprint": f.sslfingerprint,
		"mda": f.mda, "bsmtp": abs(f.bsmtp), "smtpaddress": f.smtpaddress, "smtpname": f.smtpname,
	}
	for name, p := range set {
		if g(name) {
			*p = str(vals[name])
		}
	}
	if g("mda") {
		u.Stripcr = true
	}
	if g("lmtp") {
		u.LMTP = true
	}
	if g("smtphost") {
		u.Smtphunt = splitList(f.smtphost)
	}
	if g("fetchdomains") {
		u.Fetchdomains = splitList(f.fetchdomains)
	}
	if g("antispam") {
		u.Antispam = antispam
	}
	if g("folder") {
		u.Mailboxes = splitList(f.folder)
	}
	ints := map[string]struct {
		v int
		p *int
	}{
		"limit": {f.limit, &u.Limit}, "warnings": {f.warnings, &u.Warnings},
		"batchlimit": {f.batchlimit, &u.Batchlimit}, "fetchlimit": {f.fetchlimit, &u.Fetchlimit},
		"fetchsizelimit": {f.fetchsizelimit, &u.Fetchsizelimit}, "fastuidl": {f.fastuidl, &u.Fastuidl},
		"expunge": {f.expunge, &u.Expunge},
	}
	for name, x := range ints {
		if g(name) {
			*x.p = x.v
		}
	}
	if g("expunge") {
		u.ExpungeSet = true // an explicit -e 0 (IMAP: expunge only at the end)
	}
	// --maildir and --mbox replace whatever target the rc file names.
	if g("maildir") {
		u.Maildir, u.Mbox = str(abs(f.maildir)), nil
	}
	if g("mbox") {
		u.Mbox, u.Maildir = str(abs(f.mbox)), nil
	}
}

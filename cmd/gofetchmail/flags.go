package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// flags are fetchmail 6.4.37's command-line options (plus gofetchmail's
// extensions). Pointers stay nil when the option was not given, so that only
// given options override the rc file.
type flags struct {
	fs *pflag.FlagSet

	help, version, check, silent, configdump bool
	verbose                                  int
	quit, nodetach                           bool

	rcfile, idfile, pidfile, logfile string
	daemon                           int

	// overrides of rc values
	fetchall, keep, nokeep, flush, limitflush, uidl, norewrite   bool
	ssl, sslcertck, nosslcertck, invisible, showdots, syslog     bool
	nosyslog, softbounce, nosoftbounce, nobounce, lmtp, tracepol bool
	idle                                                         bool
	proto, service, port, auth, user, mda, bsmtp, smtphost       string
	sslcert, sslkey, sslproto, sslcertfile, sslcertpath          string
	sslcommonname, sslfingerprint, plugin, plugout, folder       string
	postmaster, envelope, qvirtual, smtpaddress, smtpname        string
	antispam, badheader, fetchdomains, principal, iface, monitor string
	timeout, limit, warnings, batchlimit, fetchlimit             int
	fetchsizelimit, fastuidl, expunge, idletimeout               int
	forceidle                                                    bool

	// gofetchmail extensions
	maildir, mbox, sshtunnel string
	noBuiltinSSH             bool
	keepdays                 int

	// typed are the passwords typed at the prompt (or handed over to the
	// detached daemon); loadConfig gives them again to a reloaded rc file.
	typed []secret
}

func newFlags(stderr io.Writer) *flags {
	f := &flags{}
	fs := pflag.NewFlagSet("gofetchmail", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	fs.SetInterspersed(true)
	f.fs = fs

	fs.BoolVarP(&f.help, "help", "?", false, "display this option help")
	fs.BoolVarP(&f.version, "version", "V", false, "print version and the parsed configuration, then exit")
	fs.BoolVarP(&f.check, "check", "c", false, "check for messages without fetching")
	fs.BoolVarP(&f.silent, "silent", "s", false, "work silently")
	fs.CountVarP(&f.verbose, "verbose", "v", "work noisily (diagnostic output); twice for debug")
	fs.IntVarP(&f.daemon, "daemon", "d", -1, "run as a daemon once per N seconds")
	fs.BoolVarP(&f.nodetach, "nodetach", "N", false, "don't detach daemon process")
	fs.BoolVarP(&f.quit, "quit", "q", false, "kill daemon process")
	fs.StringVarP(&f.logfile, "logfile", "L", "", "specify logfile name")
	fs.BoolVar(&f.syslog, "syslog", false, "use syslog(3) for most messages when running as a daemon")
	fs.BoolVar(&f.nosyslog, "nosyslog", false, "turn off use of syslog(3)")
	fs.BoolVar(&f.invisible, "invisible", false, "don't write Received & enable host spoofing")
	fs.BoolVar(&f.showdots, "showdots", false, "show progress dots even in logfiles")
	fs.StringVarP(&f.rcfile, "fetchmailrc", "f", "", "specify alternate run control file")
	fs.StringVarP(&f.idfile, "idfile", "i", "", "specify alternate UIDs file")
	fs.StringVar(&f.pidfile, "pidfile", "", "specify alternate PID (lock) file")
	fs.StringVar(&f.postmaster, "postmaster", "", "specify recipient of last resort")
	fs.BoolVar(&f.nobounce, "nobounce", false, "redirect bounces from user to postmaster")
	fs.BoolVar(&f.softbounce, "softbounce", false, "keep permanently undeliverable mail on the server")
	fs.BoolVar(&f.nosoftbounce, "nosoftbounce", false, "delete permanently undeliverable mail")
	fs.BoolVar(&f.configdump, "configdump", false, "dump the parsed configuration as JSON and exit")

	fs.StringVarP(&f.proto, "protocol", "p", "", "specify retrieval protocol (see man page)")
	fs.StringVar(&f.proto, "proto", "", "alias of --protocol")
	fs.BoolVarP(&f.uidl, "uidl", "U", false, "force the use of UIDLs (pop3 only)")
	fs.BoolVar(&f.idle, "idle", false, "tells the IMAP server to send notice of new messages")
	fs.IntVar(&f.idletimeout, "idletimeout", 0, "re-issue IMAP IDLE after this many seconds (fetchmail 6.5)")
	fs.BoolVar(&f.forceidle, "forceidle", false, "use IMAP IDLE even if the server does not announce it (fetchmail 6.5)")
	fs.StringVarP(&f.service, "service", "P", "", "specify service (port) to connect to")
	fs.StringVar(&f.port, "port", "", "obsolete alias of --service")
	fs.StringVar(&f.auth, "auth", "", "authentication type (password/cram-md5/otp/ssh/external/any)")
	fs.IntVarP(&f.timeout, "timeout", "t", -1, "server nonresponse timeout")
	fs.StringVarP(&f.envelope, "envelope", "E", "", "envelope address header")
	fs.StringVarP(&f.qvirtual, "qvirtual", "Q", "", "prefix to remove from local user id")
	fs.StringVar(&f.principal, "principal", "", "mail service principal")
	fs.BoolVar(&f.tracepol, "tracepolls", false, "add poll-tracing information to Received header")
	fs.StringVarP(&f.iface, "interface", "I", "", "interface required specification")
	fs.StringVarP(&f.monitor, "monitor", "M", "", "monitor interface for activity")
	fs.StringVar(&f.plugin, "plugin", "", "specify external command to open connection")
	fs.StringVar(&f.plugout, "plugout", "", "specify external command to open smtp connection")

	fs.BoolVar(&f.ssl, "ssl", false, "enable ssl encrypted session")
	fs.StringVar(&f.sslkey, "sslkey", "", "ssl private key file")
	fs.StringVar(&f.sslcert, "sslcert", "", "ssl client certificate")
	fs.BoolVar(&f.sslcertck, "sslcertck", false, "do strict server certificate check (recommended)")
	fs.BoolVar(&f.nosslcertck, "nosslcertck", false, "skip strict server certificate check (insecure)")
	fs.StringVar(&f.sslcertfile, "sslcertfile", "", "path to trusted-CA ssl certificate file")
	fs.StringVar(&f.sslcertpath, "sslcertpath", "", "path to trusted-CA ssl certificate directory")
	fs.StringVar(&f.sslcommonname, "sslcommonname", "", "expect this CommonName from server")
	fs.StringVar(&f.sslfingerprint, "sslfingerprint", "", "fingerprint that must match that of the server's cert")
	fs.StringVar(&f.sslproto, "sslproto", "", "force ssl protocol (tls1.2+, tls1.3, '' for no STLS)")

	fs.StringVarP(&f.user, "username", "u", "", "specify users's login on server")
	fs.StringVar(&f.user, "user", "", "alias of --username")
	fs.BoolVarP(&f.fetchall, "all", "a", false, "retrieve old and new messages")
	fs.BoolVar(&f.fetchall, "fetchall", false, "alias of --all")
	fs.BoolVarP(&f.nokeep, "nokeep", "K", false, "delete new messages after retrieval")
	fs.BoolVarP(&f.keep, "keep", "k", false, "save new messages after retrieval")
	fs.BoolVarP(&f.flush, "flush", "F", false, "delete old messages from server")
	fs.BoolVar(&f.limitflush, "limitflush", false, "delete oversized messages")
	fs.BoolVarP(&f.norewrite, "norewrite", "n", false, "don't rewrite header addresses")
	fs.IntVarP(&f.limit, "limit", "l", -1, "don't fetch messages over given size")
	fs.IntVarP(&f.warnings, "warnings", "w", -1, "interval between warning mail notification")
	fs.VarP(&onceString{p: &f.smtphost}, "smtphost", "S", "set SMTP forwarding host")
	fs.StringVar(&f.fetchdomains, "fetchdomains", "", "fetch mail for specified domains")
	fs.StringVarP(&f.smtpaddress, "smtpaddress", "D", "", "set SMTP delivery domain to use")
	fs.StringVar(&f.smtpname, "smtpname", "", "set SMTP full username@domain to use")
	fs.BoolVar(&f.lmtp, "lmtp", false, "use LMTP (RFC2033) for delivery")
	fs.StringVarP(&f.antispam, "antispam", "Z", "", "set antispam response values")
	fs.IntVarP(&f.batchlimit, "batchlimit", "b", -1, "set batch limit for SMTP connections")
	fs.IntVarP(&f.fetchlimit, "fetchlimit", "B", -1, "set fetch limit for server connections")
	fs.IntVar(&f.fetchsizelimit, "fetchsizelimit", -1, "set fetch message size limit")
	fs.IntVar(&f.fastuidl, "fastuidl", -1, "do a binary search for UIDLs")
	fs.IntVarP(&f.expunge, "expunge", "e", -1, "set max deletions between expunges")
	fs.StringVarP(&f.mda, "mda", "m", "", "set MDA to use for forwarding")
	fs.StringVar(&f.bsmtp, "bsmtp", "", "set output BSMTP file")
	fs.StringVar(&f.badheader, "bad-header", "", "specify policy for handling messages with bad headers (accept/reject)")
	fs.StringVarP(&f.folder, "folder", "r", "", "specify remote folder name")

	fs.StringVar(&f.maildir, "maildir", "", "deliver into this maildir (gofetchmail extension)")
	fs.StringVar(&f.mbox, "mbox", "", "deliver into this mbox file (gofetchmail extension)")
	fs.StringVar(&f.sshtunnel, "sshtunnel", "", "reach every server through an in-process SSH channel via [user@]host[:port] (gofetchmail extension)")
	fs.IntVar(&f.keepdays, "keepdays", 0, "with keep, delete a message on the server N days after it was delivered (gofetchmail extension)")
	fs.BoolVar(&f.noBuiltinSSH, "no-builtin-ssh", false, "run ssh preconnect commands through /bin/sh instead of translating them (gofetchmail extension)")
	return f
}

// given reports whether an option was set on the command line.
func (f *flags) given(name string) bool {
	fl := f.fs.Lookup(name)
	return fl != nil && fl.Changed
}

// onlySafe reports whether the command line holds nothing but options that
// fetchmail allows while a daemon runs (-v, -s) and no server names: such an
// invocation wakes the running daemon.
func (f *flags) onlySafe() bool {
	safe := true
	f.fs.Visit(func(fl *pflag.Flag) {
		switch fl.Name {
		case "verbose", "silent":
		default:
			safe = false
		}
	})
	return safe && f.fs.NArg() == 0
}

// splitList splits a comma-separated option value.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseAntispam(s string) ([]int, error) {
	var out []int
	for _, p := range splitList(s) {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("--antispam: %q is not a number", p)
		}
		out = append(out, n)
	}
	return out, nil
}

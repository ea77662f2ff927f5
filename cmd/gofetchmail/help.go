package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// helpGroups orders --help as fetchmail's help is ordered, under headings.
// An option in no group (one added later) is listed under "Other options",
// so that none is ever missing from the help.
var helpGroups = []struct {
	title string
	names []string
}{
	{"General", []string{"help", "version", "check", "silent", "verbose", "configdump"}},
	{"Daemon, logging and files", []string{"daemon", "nodetach", "quit", "logfile", "syslog", "nosyslog",
		"fetchmailrc", "idfile", "pidfile", "invisible", "showdots"}},
	{"Server: protocol and connection", []string{"protocol", "uidl", "idle", "idletimeout", "forceidle",
		"service", "port", "auth", "timeout", "envelope", "qvirtual", "principal", "tracepolls",
		"interface", "monitor", "plugin", "plugout", "folder"}},
	{"Server: TLS", []string{"ssl", "sslkey", "sslcert", "sslcertck", "nosslcertck", "sslcertfile",
		"sslcertpath", "sslcommonname", "sslfingerprint", "sslproto"}},
	{"User: what to fetch and keep", []string{"username", "all", "nokeep", "keep", "flush", "limitflush",
		"limit", "warnings", "batchlimit", "fetchlimit", "fetchsizelimit", "fastuidl", "expunge"}},
	{"User: delivery", []string{"norewrite", "smtphost", "fetchdomains", "smtpaddress", "smtpname", "lmtp",
		"antispam", "mda", "bsmtp", "postmaster", "nobounce", "softbounce", "nosoftbounce", "bad-header"}},
	{"gofetchmail extensions", []string{"maildir", "mbox", "sshtunnel", "keepdays", "no-builtin-ssh"}},
}

// helpArgs names the argument of the options that take one; the others
// are shown by type (N for numbers, ARG else).
var helpArgs = map[string]string{
	"daemon": "N", "logfile": "FILE", "fetchmailrc": "FILE", "idfile": "FILE", "pidfile": "FILE",
	"protocol": "PROTO", "service": "PORT", "port": "PORT", "auth": "TYPE", "timeout": "SECONDS",
	"envelope": "HEADER", "qvirtual": "PREFIX", "interface": "IF/ADDR/MASK", "monitor": "IF",
	"plugin": "COMMAND", "plugout": "COMMAND", "folder": "NAMES", "idletimeout": "SECONDS",
	"sslkey": "FILE", "sslcert": "FILE", "sslcertfile": "FILE", "sslcertpath": "DIR",
	"sslcommonname": "NAME", "sslfingerprint": "FINGERPRINT", "sslproto": "PROTO",
	"username": "NAME", "limit": "OCTETS", "warnings": "SECONDS", "smtphost": "HOSTS",
	"fetchdomains": "DOMAINS", "smtpaddress": "DOMAIN", "smtpname": "USER@DOMAIN", "antispam": "CODES",
	"mda": "COMMAND", "bsmtp": "FILE", "postmaster": "NAME", "bad-header": "accept|reject",
	"maildir": "DIR", "mbox": "FILE", "sshtunnel": "[USER@]HOST[:PORT]", "fetchsizelimit": "N", "keepdays": "N",
	"principal": "PRINCIPAL",
}

// usage prints the help: fetchmail's options in fetchmail's order, grouped,
// one line each, an option's aliases beside it, without pflag's
// "[=true|false]" and "(default -1)" (a default of -1 only means "not
// given, the rc file decides").
func usage(w io.Writer, f *flags) {
	fmt.Fprintln(w, "usage:  gofetchmail [options] [server ...]")
	fmt.Fprintln(w, "        gofetchmail oauth2 login [--device] [--no-browser] [-f RC] [SERVER [USER]]")
	fmt.Fprintln(w, "        gofetchmail doctor [-f RC] [server ...]")
	fmt.Fprintln(w, "        gofetchmail demo [dir]")
	fmt.Fprintln(w, "        gofetchmail completion bash|zsh")
	aliases := map[string][]string{} // option -> its aliases
	isAlias := map[string]bool{}
	f.fs.VisitAll(func(fl *pflag.Flag) {
		if of, ok := strings.CutPrefix(fl.Usage, "alias of --"); ok {
			aliases[of] = append(aliases[of], fl.Name)
			isAlias[fl.Name] = true
		}
	})
	listed := map[string]bool{}
	var lines [][2]string
	emit := func(fl *pflag.Flag) {
		listed[fl.Name] = true
		names := "    "
		if fl.Shorthand != "" {
			names = "-" + fl.Shorthand + ", "
		}
		names += "--" + fl.Name
		for _, a := range aliases[fl.Name] {
			names += ", --" + a
		}
		if arg := helpArg(fl); arg != "" {
			names += " " + arg
		}
		lines = append(lines, [2]string{names, strings.TrimSuffix(fl.Usage, " (gofetchmail extension)")})
	}
	type group struct {
		title string
		lines [][2]string
	}
	var groups []group
	flush := func(title string) {
		if len(lines) > 0 {
			groups = append(groups, group{title, lines})
		}
		lines = nil
	}
	for _, g := range helpGroups {
		for _, n := range g.names {
			if fl := f.fs.Lookup(n); fl != nil {
				emit(fl)
			}
		}
		flush(g.title)
	}
	f.fs.VisitAll(func(fl *pflag.Flag) {
		if !listed[fl.Name] && !isAlias[fl.Name] {
			emit(fl)
		}
	})
	flush("Other options")
	// One column for all groups, so that the help reads as one table; an
	// option too long for it has its text on the next line.
	width := 0
	for _, g := range groups {
		for _, l := range g.lines {
			if len(l[0]) <= 30 {
				width = max(width, len(l[0]))
			}
		}
	}
	for _, g := range groups {
		fmt.Fprintf(w, "\n%s:\n", g.title)
		for _, l := range g.lines {
			if len(l[0]) > width {
				fmt.Fprintf(w, "  %s\n  %-*s  %s\n", l[0], width, "", l[1])
			} else {
				fmt.Fprintf(w, "  %-*s  %s\n", width, l[0], l[1])
			}
		}
	}
	fmt.Fprintln(w, "\nLong options may be abbreviated to a unique prefix. See gofetchmail(1).")
}

// helpArg is the argument an option takes, or "" for a switch.
func helpArg(fl *pflag.Flag) string {
	switch fl.Value.Type() {
	case "bool", "count":
		return ""
	}
	if a, ok := helpArgs[fl.Name]; ok {
		return a
	}
	if strings.HasPrefix(fl.Value.Type(), "int") {
		return "N"
	}
	return "ARG"
}

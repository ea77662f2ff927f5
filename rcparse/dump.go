package rcparse

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// MarshalJSON writes a plain name as "name", a mapping as
// ["remote", "local"] and the wildcard as "*", as in the configdump schema.
func (l LocalName) MarshalJSON() ([]byte, error) {
	switch {
	case l.Wildcard:
		return json.Marshal("*")
	case l.Pair || l.Remote != "":
		return json.Marshal([2]string{l.Remote, l.Local})
	}
	return json.Marshal(l.Local)
}

// DumpJSON writes the configuration as one indented JSON document in the
// --configdump schema. Passwords are included, as fetchmail's
// --configdump does.
//
// A path option whose "~" gofetchmail expanded is dumped as fetchmail
// spells it ("<rcdir>/~/x"), so that the dump stays fetchmail's.
func (c *Config) DumpJSON(w io.Writer) error {
	for p, sp := range c.spelled {
		used := *p
		*p = sp
		defer func() { *p = used }()
	}
	if c.idfileSpelled != nil && c.Idfile == c.idfileParsed {
		used := c.Idfile
		c.Idfile = *c.idfileSpelled
		defer func() { c.Idfile = used }()
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("rcparse: dump configuration: %w", err)
	}
	return nil
}

// Summary writes a readable description of every poll entry in the
// spirit of fetchmail -V. It never prints a password.
func (c *Config) Summary(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	if c.Daemon > 0 {
		p("Poll interval is %d seconds\n", c.Daemon)
	}
	if c.Logfile != nil {
		p("Logfile is %s\n", *c.Logfile)
	}
	p("Idfile is %s\n", c.Idfile)
	if c.Syslog {
		p("Progress messages will be logged via syslog\n")
	}
	if c.Invisible {
		p("Fetchmail will masquerade and will not generate Received\n")
	}
	if c.Showdots {
		p("Fetchmail will show progress dots even in logfiles.\n")
	}
	p("Fetchmail will forward misaddressed multidrop messages to %s.\n", c.Postmaster)
	if !c.Bouncemail {
		p("Fetchmail will direct error mail to the postmaster.\n")
	}
	if !c.Softbounce {
		p("Fetchmail will treat permanent errors as permanent (drop messages).\n")
	}
	for _, s := range c.Servers {
		for _, u := range s.Users {
			p("Options for retrieving from %s@%s:\n", u.Remotename, s.Pollname)
			if s.Via != nil {
				p("  Mail will be retrieved via %s\n", *s.Via)
			}
			if s.Skip {
				p("  This host will not be queried when no host is specified.\n")
			}
			if u.OAuthProvider != nil || u.OAuthClientID != nil {
				p("  OAuth2 tokens are obtained by gofetchmail (provider %s, client ID %s).\n", orNone(u.OAuthProvider), orNone(u.OAuthClientID))
			} else if u.Password == nil {
				p("  Password will be prompted for.\n")
			} else {
				p("  Password: *****\n")
			}
			p("  Protocol is %s", s.Protocol)
			if s.Port != nil {
				p(" (using service %s)", *s.Port)
			}
			p(".\n")
			p("  Authentication: %s.\n", s.Auth)
			if s.SSHTunnel != nil {
				p("  Server connection will be tunnelled through ssh to %s.\n", *s.SSHTunnel)
			}
			if s.Plugin != nil {
				p("  Server connection will be brought up with \"%s\".\n", *s.Plugin)
			}
			if u.Preconnect != nil {
				p("  Server connection will be brought up with \"%s\".\n", *u.Preconnect)
			}
			if u.Postconnect != nil {
				p("  Server connection will be taken down with \"%s\".\n", *u.Postconnect)
			}
			if u.SSL {
				p("  SSL encrypted sessions enabled.\n")
			}
			if u.SSLProto != nil {
				p("  SSL protocol: %s.\n", *u.SSLProto)
			}
			if u.SSLCertck {
				p("  SSL server certificate checking enabled.\n")
			} else {
				p("  SSL server certificate checking disabled.\n")
			}
			// As fetchmail's -V: what pins or anchors the server's
			// certificate (none of it is secret).
			if u.SSLCertfile != nil {
				p("  SSL trusted certificate file: %s\n", *u.SSLCertfile)
			}
			if u.SSLCertpath != nil {
				p("  SSL trusted certificate directory: %s\n", *u.SSLCertpath)
			}
			if u.SSLCommonname != nil {
				p("  SSL server CommonName: %s\n", *u.SSLCommonname)
			}
			if u.SSLFingerprint != nil {
				p("  SSL key fingerprint (checked against the server key): %s\n", *u.SSLFingerprint)
			}
			p("  Server nonresponse timeout is %d seconds.\n", s.Timeout)
			if len(u.Mailboxes) == 0 {
				p("  Default mailbox selected.\n")
			} else {
				p("  Selected mailboxes are: %s\n", strings.Join(u.Mailboxes, " "))
			}
			onoff := func(b bool) string { return map[bool]string{true: "on", false: "off"}[b] }
			p("  fetchall %s, keep %s, flush %s, rewrite %s, stripcr %s, idle %s.\n",
				onoff(u.Fetchall), onoff(u.Keep), onoff(u.Flush), onoff(u.Rewrite), onoff(u.Stripcr), onoff(u.Idle))
			if u.Limit > 0 {
				p("  Message size limit is %d octets.\n", u.Limit)
			}
			if u.Fetchlimit > 0 {
				p("  Received-message limit is %d.\n", u.Fetchlimit)
			}
			switch {
			case u.Maildir != nil:
				p("  Messages will be delivered to maildir %s.\n", *u.Maildir)
			case u.Mbox != nil:
				p("  Messages will be appended to mbox %s.\n", *u.Mbox)
			case u.BSMTP != nil:
				p("  Messages will be appended to %s as BSMTP\n", *u.BSMTP)
			case u.MDA != nil:
				p("  Messages will be delivered with \"%s\".\n", *u.MDA)
			default:
				proto := "SMTP"
				if u.LMTP {
					proto = "LMTP"
				}
				p("  Messages will be %s-forwarded to: %s\n", proto, strings.Join(u.Smtphunt, " "))
			}
			var names []string
			for _, n := range u.Localnames {
				switch {
				case n.Wildcard:
					names = append(names, "*")
				case n.Pair || n.Remote != "":
					names = append(names, n.Remote+" -> "+n.Local)
				default:
					names = append(names, n.Local)
				}
			}
			mode := "Single-drop"
			if len(u.Localnames) > 1 {
				mode = "Multi-drop"
			}
			p("  %s mode: %d local name(s) recognized: %s.\n", mode, len(u.Localnames), strings.Join(names, " "))
		}
	}
}

func orNone(s *string) string {
	if s == nil || *s == "" {
		return "none"
	}
	return *s
}

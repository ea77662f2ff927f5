package rcparse

import (
	"os"
	"strings"
	"syscall"
)

// postParse applies fetchmail's load_params and the start of main(): the
// defaults record, the built-in defaults, the sanity checks and the
// logfile rule. It returns the finished Config, the warnings in print
// order, and a *SyntaxError for the checks that make fetchmail exit 5.
func (p *parser) postParse(opts Options) (*Config, []Warning, error) {
	warns := append([]Warning(nil), p.pathWarns...)
	warn := func(msg string, bare bool) {
		warns = append(warns, Warning{File: p.file, Msg: msg, Bare: bare, Prog: p.prog})
	}
	fail := func(msgs []string, bare bool) (*Config, []Warning, error) {
		var list []*SyntaxError
		for _, m := range msgs {
			list = append(list, &SyntaxError{File: p.file, Msg: m, Bare: bare, Prog: p.prog})
		}
		return nil, warns, chain(list)
	}

	qs := p.queries
	if len(qs) > 0 && qs[0].srv.pollname == "defaults" {
		for _, q := range qs[1:] {
			optmerge(q, qs[0])
		}
		qs = qs[1:]
		if len(qs) > 0 {
			qs[0].lead = true // an orphaned user of the defaults record
		}
	}
	for i, q := range qs {
		if i > 0 && q.srv.pollname == "defaults" {
			return fail([]string{`Error: multiple "defaults" records in config file, or "defaults" is not the first record.`}, false)
		}
	}

	user := opts.User
	def := query{}
	def.srv.protocol = protoAuto
	def.srv.timeout = 300
	def.srv.esmtpname = &user
	def.usr.warnings = 3600
	def.usr.remotename = &user
	def.usr.listener = 1
	def.usr.fetchsizelimit = 100
	def.usr.fastuidl = 4
	def.usr.sslcertck = flagTrue

	idle, mboxes := 0, 0
	for _, q := range qs {
		optmerge(q, &def)
		s, u := &q.srv, &q.usr
		norm := func(f *int, dflt bool) {
			switch {
			case *f == flagTrue || (*f == flagUnset && dflt):
				*f = flagTrue
			default:
				*f = flagFalse
			}
		}
		for _, f := range []*int{&u.keep, &u.fetchall, &u.flush, &u.limitflush, &u.forcecr,
			&u.pass8bits, &u.dropstatus, &u.dropdelivered, &u.mimedecode, &u.idle,
			&u.ssl, &u.forceidle, &s.checkalias, &s.uidl} {
			norm(f, false)
		}
		norm(&u.rewrite, true)
		norm(&u.stripcr, u.mda != nil)
		norm(&s.dns, true)
		norm(&u.sslcertck, true)

		if s.auth == authKerberosV4 {
			return fail([]string{"KERBEROS v4 support is configured, but not compiled in."}, false)
		}
		if len(u.smtphunt) == 0 {
			u.smtphunt = []string{"localhost"}
		}
		if (s.protocol == protoETRN || s.protocol == protoODMR) && len(u.domainlist) == 0 {
			u.domainlist = []string{fetchmailHost()}
		}
		if len(u.localnames) == 0 {
			u.localnames = []LocalName{{Local: user}}
		}
		if (u.wildcard || len(u.localnames) > 1) && s.envelope == nil {
			warn("warning: multidrop for "+s.pollname+" requires envelope option!", false)
			warn("warning: Do not ask for support if all mail goes to postmaster!", false)
		}
		if s.timeout == -1 {
			s.timeout = 300
		}
		if s.service != nil {
			port, msgs := servport(*s.service)
			if port < 0 {
				return fail(append(msgs, s.pollname+" configuration invalid, specify positive port number for service or port"), false)
			}
			if s.protocol == protoRPOP && port >= 1024 {
				return fail([]string{s.pollname + " configuration invalid, RPOP requires a privileged port"}, false)
			}
			ssl := u.ssl == flagTrue
			switch s.protocol {
			case protoPOP3:
				if port == 995 && !ssl {
					warn("WARNING: "+s.pollname+" configuration invalid, you normally need --ssl for port 995/service pop3s.", false)
				}
				if port == 110 && ssl {
					warn("WARNING: "+s.pollname+" configuration invalid, you normally need port 995/service pop3s for --ssl.", false)
				}
			case protoIMAP:
				if port == 993 && !ssl {
					warn("WARNING: "+s.pollname+" configuration invalid, you normally need --ssl for port 993/service imaps.", false)
				}
				if port == 143 && ssl {
					warn("WARNING: "+s.pollname+" configuration invalid, you normally need port 993/service imaps for --ssl.", false)
				}
			}
		}
		if u.listener == 2 {
			for _, h := range u.smtphunt {
				if strings.HasPrefix(h, "/") {
					continue
				}
				i := strings.LastIndexByte(h, '/')
				bad := i < 0 || h[i+1:] == "smtp"
				if !bad {
					port, msgs := servport(h[i+1:])
					for _, m := range msgs {
						warn(m, false)
					}
					bad = port == 25
				}
				if bad {
					return fail([]string{s.pollname + " configuration invalid, LMTP can't use default SMTP port"}, true)
				}
			}
		}
		if u.idle == flagTrue {
			idle++
		}
		mboxes += max(len(u.mailboxes), 1)
	}
	if idle > 0 && mboxes > 1 && !opts.MultiIdle {
		return fail([]string{"Error: idle mode does not work for multiple folders or accounts!"}, false)
	}

	// main(): passwords for methods that need none, then the logfile.
	for _, q := range qs {
		s, u := &q.srv, &q.usr
		if !s.skip && u.password == nil && noPassword(s) {
			v := *u.remotename
			u.password = &v
		}
	}
	run := p.run
	if run.postmaster == nil {
		pm := user
		if opts.Root {
			pm = "postmaster"
		}
		run.postmaster = &pm
	}
	if run.idfile == nil {
		id := prependdir(".fetchids", opts.Home)
		run.idfile = &id
	}
	if run.logfile != nil {
		if _, err := os.Stat(*run.logfile); err != nil {
			warn(`Logfile "`+*run.logfile+`" does not exist, ignoring logfile option.`, true)
			run.logfile = nil
		} else if syscall.Access(*run.logfile, 2 /* W_OK */) != nil {
			return nil, warns, &LogfileError{Path: *run.logfile}
		} else if run.syslog {
			run.syslog = false
		}
	}
	return p.build(run, qs), warns, nil
}

// noPassword is fetchmail's NO_PASSWORD: methods that need no password get
// the remote name as a dummy one.
func noPassword(s *rawServer) bool {
	switch s.auth {
	case authOTP, authKerberosV4, authKerberosV5, authGSSAPI, authSSH, authExternal:
		return true
	}
	return s.protocol == protoETRN
}

// fetchmailHost is the local host name used as the default ETRN/ODMR
// domain (fetchmail's host_fqdn without the DNS canonicalisation).
func fetchmailHost() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
}

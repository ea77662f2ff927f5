package rcparse

// build converts the post-processed queries into the public Config.
func (p *parser) build(run globals, qs []*query) *Config {
	cfg := &Config{
		Daemon:     numOut(run.daemon),
		Logfile:    run.logfile,
		Idfile:     *run.idfile,
		Pidfile:    run.pidfile,
		Postmaster: *run.postmaster,
		Bouncemail: run.bouncemail,
		Spambounce: run.spambounce,
		Softbounce: run.softbounce,
		Properties: run.properties,
		Invisible:  run.invisible,
		Showdots:   run.showdots,
		Syslog:     run.syslog,
		Servers:    []*Server{},
		File:       p.file,
		spelled:    p.spelled,
	}
	if sp, ok := p.spelled[run.idfile]; ok {
		cfg.idfileSpelled = &sp
		cfg.idfileParsed = cfg.Idfile
	}
	var cur *Server
	for i, q := range qs {
		if q.lead || i == 0 {
			cur = buildServer(&q.srv)
			cfg.Servers = append(cfg.Servers, cur)
		}
		cur.Users = append(cur.Users, buildUser(&q.usr, q.line))
	}
	return cfg
}

var protoNames = map[int]string{
	protoAuto: "auto", protoPOP2: "unknown?!?", protoPOP3: "POP3", protoIMAP: "IMAP",
	protoAPOP: "APOP", protoRPOP: "RPOP", protoETRN: "ETRN", protoODMR: "ODMR",
}

var authNames = map[int]string{
	authAny: "any", authPassword: "password", authKerberosV4: "kerberos_v4",
	authKerberosV5: "kerberos_v5", authGSSAPI: "gssapi", authSSH: "ssh", authOTP: "otp",
	authCRAMMD5: "cram-md5", authMSN: "msn", authNTLM: "ntlm", authExternal: "external",
	authOAuthBearer: "oauthbearer",
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func buildServer(s *rawServer) *Server {
	env := s.envelope
	switch {
	case env == nil:
		r := "Received"
		env = &r
	case *env == envDisabled:
		env = nil
	}
	return &Server{
		Pollname:      s.pollname,
		Skip:          s.skip,
		Via:           s.via,
		Protocol:      protoNames[s.protocol],
		Port:          s.service,
		Timeout:       numOut(s.timeout),
		Interval:      numOut(s.interval),
		Envelope:      env,
		Envskip:       numOut(s.envskip),
		Qvirtual:      s.qvirtual,
		Auth:          authNames[s.auth],
		DNS:           s.dns == flagTrue,
		UIDL:          s.uidl == flagTrue,
		Aka:           nonNil(s.aka),
		Localdomains:  nonNil(s.localdomains),
		Interface:     s.iface,
		Monitor:       s.monitor,
		Plugin:        s.plugin,
		Plugout:       s.plugout,
		Principal:     s.principal,
		Esmtpname:     s.esmtpname,
		Esmtppassword: s.esmtppass,
		Tracepolls:    s.tracepolls != flagUnset, // fetchmail never normalises it
		Badheader:     map[bool]string{false: "reject", true: "accept"}[s.badheader != 0],
		Users:         []*User{},
		SSHTunnel:     s.sshtunnel,
		IdleTimeout:   numOut(s.idletimeout),
		SDPS:          s.sdps,
		CheckAlias:    s.checkalias == flagTrue,
		Line:          s.line,
	}
}

func buildUser(u *rawUser, line int) *User {
	names := append([]LocalName{}, u.localnames...)
	if u.wildcard {
		names = append(names, LocalName{Wildcard: true})
	}
	antispam := append([]int{}, u.antispam...)
	return &User{
		Remotename:     *u.remotename,
		Password:       u.password,
		Localnames:     names,
		Fetchall:       u.fetchall == flagTrue,
		Keep:           u.keep == flagTrue,
		Flush:          u.flush == flagTrue,
		Limitflush:     u.limitflush == flagTrue,
		Rewrite:        u.rewrite == flagTrue,
		Stripcr:        u.stripcr == flagTrue,
		Forcecr:        u.forcecr == flagTrue,
		Pass8bits:      u.pass8bits == flagTrue,
		Dropstatus:     u.dropstatus == flagTrue,
		Dropdelivered:  u.dropdelivered == flagTrue,
		Mimedecode:     u.mimedecode == flagTrue,
		Idle:           u.idle == flagTrue,
		MDA:            u.mda,
		BSMTP:          u.bsmtp,
		LMTP:           u.listener == 2,
		Preconnect:     u.preconnect,
		Postconnect:    u.postconnect,
		Limit:          numOut(u.limit),
		Warnings:       numOut(u.warnings),
		Fetchlimit:     numOut(u.fetchlimit),
		Fetchsizelimit: numOut(u.fetchsizelimit),
		Fastuidl:       numOut(u.fastuidl),
		Batchlimit:     numOut(u.batchlimit),
		SSL:            u.ssl == flagTrue,
		SSLKey:         u.sslkey,
		SSLCert:        u.sslcert,
		SSLProto:       u.sslproto,
		SSLCertck:      u.sslcertck == flagTrue,
		SSLCertfile:    u.sslcertfile,
		SSLCertpath:    u.sslcertpath,
		SSLCommonname:  u.sslcommonname,
		SSLFingerprint: u.sslfingerprint,
		Expunge:        numOut(u.expunge),
		ExpungeSet:     u.expunge != 0,
		Properties:     u.properties,
		Smtphunt:       nonNil(u.smtphunt),
		Fetchdomains:   nonNil(u.domainlist),
		Smtpaddress:    u.smtpaddress,
		Smtpname:       u.smtpname,
		Antispam:       antispam,
		Mailboxes:      nonNil(u.mailboxes),
		Maildir:        u.maildir,
		Mbox:           u.mbox,
		Forceidle:      u.forceidle == flagTrue,
		Passwordfile:   u.passwordfile,
		Passwordfd:     u.passwordfd,
		Keepdays:       u.keepdays,
		Tokencommand:   u.tokencommand,
		Line:           line,

		OAuthProvider:     u.oauthprovider,
		OAuthAuthURL:      u.oauthauthurl,
		OAuthDeviceURL:    u.oauthdeviceurl,
		OAuthTokenURL:     u.oauthtokenurl,
		OAuthScope:        u.oauthscope,
		OAuthClientID:     u.oauthclientid,
		OAuthClientSecret: u.oauthclientsecret,
	}
}

package rcparse

// Protocols (0 = not set, as in fetchmail's struct hostdata).
const (
	protoUnset = iota
	protoAuto
	protoPOP2
	protoPOP3
	protoIMAP
	protoAPOP
	protoRPOP
	protoETRN
	protoODMR
)

// Authentication methods. As in fetchmail, "any" is 0 and therefore counts
// as unset when the defaults record is merged.
const (
	authAny = iota
	authPassword
	authKerberosV4
	authKerberosV5
	authGSSAPI
	authSSH
	authOTP
	authCRAMMD5
	authMSN
	authNTLM
	authExternal
	authOAuthBearer // 7.0 extension
)

// Tri-state flags: 0 = not set, so the defaults record and the built-in
// defaults may fill it in.
const (
	flagUnset = iota
	flagTrue
	flagFalse
)

const envDisabled = "\x00disabled" // fetchmail's STRING_DISABLED ("no envelope")

// rawServer holds the server part of fetchmail's struct query before
// post-parse processing; zero values mean "not set".
type rawServer struct {
	pollname     string
	skip         bool
	via          *string
	protocol     int
	sdps         bool
	service      *string
	interval     int
	auth         int
	timeout      int
	envelope     *string
	envskip      int
	qvirtual     *string
	dns          int
	checkalias   int
	uidl         int
	principal    *string
	esmtpname    *string
	esmtppass    *string
	iface        *string
	monitor      *string
	plugin       *string
	plugout      *string
	tracepolls   int
	badheader    int // 0 = reject (fetchmail's BHREJECT is 0), 1 = accept
	aka          []string
	localdomains []string
	idletimeout  int
	sshtunnel    *string
	line         int
}

// rawUser is the user part of fetchmail's struct query.
type rawUser struct {
	remotename     *string
	password       *string
	localnames     []LocalName // without the wildcard
	wildcard       bool
	mda, bsmtp     *string
	listener       int // 0 unset, 1 SMTP, 2 LMTP
	smtpaddress    *string
	smtpname       *string
	preconnect     *string
	postconnect    *string
	keep           int
	flush          int
	limitflush     int
	fetchall       int
	rewrite        int
	forcecr        int
	stripcr        int
	pass8bits      int
	dropstatus     int
	dropdelivered  int
	mimedecode     int
	idle           int
	forceidle      int
	ssl            int
	sslkey         *string
	sslcert        *string
	sslproto       *string
	sslcertck      int
	sslcertfile    *string
	sslcertpath    *string
	sslcommonname  *string
	sslfingerprint *string
	limit          int // user numbers: 0 unset, explicit 0 stored as -1
	warnings       int
	fetchlimit     int
	fetchsizelimit int
	fastuidl       int
	batchlimit     int
	expunge        int
	properties     *string
	smtphunt       []string
	domainlist     []string
	antispam       []int
	mailboxes      []string
	passwordfile   *string
	passwordfd     *int
	keepdays       *int
	tokencommand   *string
	maildir        *string
	mbox           *string

	// OAuth2 done by the program (gofetchmail extensions).
	oauthprovider     *string
	oauthauthurl      *string
	oauthdeviceurl    *string
	oauthtokenurl     *string
	oauthscope        *string
	oauthclientid     *string
	oauthclientsecret *string
}

// query is one fetchmail struct query: a server part shared by every user
// of the same poll entry, and one user.
type query struct {
	srv  rawServer
	usr  rawUser
	lead bool // first user of its poll entry (fetchmail: lead_server == NULL)
	line int
}

// numIn is fetchmail's NUM_VALUE_IN: an explicit 0 is stored as -1 so that
// it is not mistaken for "unset".
func numIn(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// numOut is NUM_VALUE_OUT: negative values print as 0.
func numOut(n int) int {
	if n < 0 {
		return 0
	}
	return n
}

func mergeStr(dst **string, src *string) {
	if *dst == nil && src != nil {
		s := *src
		*dst = &s
	}
}

func mergeInt(dst *int, src int) {
	if *dst == 0 {
		*dst = src
	}
}

func mergeList[T any](dst *[]T, src []T) {
	if len(*dst) == 0 && len(src) > 0 {
		*dst = append([]T(nil), src...)
	}
}

// optmerge fills the unset fields of q from d, like fetchmail's
// optmerge(q, d, FALSE). aka is deliberately not merged.
func optmerge(q *query, d *query) {
	s, ds := &q.srv, &d.srv
	mergeList(&s.localdomains, ds.localdomains)
	mergeList(&q.usr.localnames, d.usr.localnames)
	u, du := &q.usr, &d.usr
	mergeList(&u.mailboxes, du.mailboxes)
	mergeList(&u.smtphunt, du.smtphunt)
	mergeList(&u.domainlist, du.domainlist)
	mergeList(&u.antispam, du.antispam)

	mergeStr(&s.via, ds.via)
	mergeInt(&s.protocol, ds.protocol)
	if !s.sdps && s.protocol == ds.protocol {
		s.sdps = ds.sdps
	}
	mergeStr(&s.service, ds.service)
	mergeInt(&s.interval, ds.interval)
	mergeInt(&s.auth, ds.auth)
	mergeInt(&s.timeout, ds.timeout)
	mergeStr(&s.envelope, ds.envelope)
	mergeInt(&s.envskip, ds.envskip)
	mergeStr(&s.qvirtual, ds.qvirtual)
	if !s.skip {
		s.skip = ds.skip
	}
	mergeInt(&s.dns, ds.dns)
	mergeInt(&s.checkalias, ds.checkalias)
	mergeInt(&s.uidl, ds.uidl)
	mergeStr(&s.principal, ds.principal)
	mergeStr(&s.esmtpname, ds.esmtpname)
	mergeStr(&s.esmtppass, ds.esmtppass)
	mergeStr(&s.iface, ds.iface)
	mergeStr(&s.monitor, ds.monitor)
	mergeStr(&s.plugin, ds.plugin)
	mergeStr(&s.plugout, ds.plugout)
	mergeInt(&s.tracepolls, ds.tracepolls)
	mergeInt(&s.badheader, ds.badheader)
	mergeInt(&s.idletimeout, ds.idletimeout)
	mergeStr(&s.sshtunnel, ds.sshtunnel)

	if !u.wildcard {
		u.wildcard = du.wildcard
	}
	mergeStr(&u.remotename, du.remotename)
	mergeStr(&u.password, du.password)
	mergeStr(&u.mda, du.mda)
	mergeStr(&u.bsmtp, du.bsmtp)
	mergeInt(&u.listener, du.listener)
	mergeStr(&u.smtpaddress, du.smtpaddress)
	mergeStr(&u.smtpname, du.smtpname)
	mergeStr(&u.preconnect, du.preconnect)
	mergeStr(&u.postconnect, du.postconnect)
	for _, p := range []struct {
		d *int
		s int
	}{
		{&u.keep, du.keep}, {&u.flush, du.flush}, {&u.limitflush, du.limitflush},
		{&u.fetchall, du.fetchall}, {&u.rewrite, du.rewrite}, {&u.forcecr, du.forcecr},
		{&u.stripcr, du.stripcr}, {&u.pass8bits, du.pass8bits}, {&u.dropstatus, du.dropstatus},
		{&u.dropdelivered, du.dropdelivered}, {&u.mimedecode, du.mimedecode},
		{&u.idle, du.idle}, {&u.forceidle, du.forceidle},
		{&u.limit, du.limit}, {&u.warnings, du.warnings}, {&u.fetchlimit, du.fetchlimit},
		{&u.fetchsizelimit, du.fetchsizelimit}, {&u.fastuidl, du.fastuidl},
		{&u.batchlimit, du.batchlimit}, {&u.ssl, du.ssl}, {&u.sslcertck, du.sslcertck},
		{&u.expunge, du.expunge},
	} {
		mergeInt(p.d, p.s)
	}
	mergeStr(&u.sslkey, du.sslkey)
	mergeStr(&u.sslcert, du.sslcert)
	mergeStr(&u.sslproto, du.sslproto)
	mergeStr(&u.sslcertfile, du.sslcertfile)
	mergeStr(&u.sslcertpath, du.sslcertpath)
	mergeStr(&u.sslcommonname, du.sslcommonname)
	mergeStr(&u.sslfingerprint, du.sslfingerprint)
	mergeStr(&u.properties, du.properties)
	mergeStr(&u.passwordfile, du.passwordfile)
	if u.passwordfd == nil && du.passwordfd != nil {
		v := *du.passwordfd
		u.passwordfd = &v
	}
	if u.keepdays == nil && du.keepdays != nil {
		v := *du.keepdays
		u.keepdays = &v
	}
	mergeStr(&u.tokencommand, du.tokencommand)
	mergeStr(&u.oauthprovider, du.oauthprovider)
	mergeStr(&u.oauthauthurl, du.oauthauthurl)
	mergeStr(&u.oauthdeviceurl, du.oauthdeviceurl)
	mergeStr(&u.oauthtokenurl, du.oauthtokenurl)
	mergeStr(&u.oauthscope, du.oauthscope)
	mergeStr(&u.oauthclientid, du.oauthclientid)
	mergeStr(&u.oauthclientsecret, du.oauthclientsecret)
	mergeStr(&u.maildir, du.maildir)
	mergeStr(&u.mbox, du.mbox)
}

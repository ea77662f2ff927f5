package rcparse

import (
	"strconv"
	"strings"
)

// globals are the "set" statements (fetchmail's struct runctl).
type globals struct {
	logfile, idfile, pidfile, postmaster, properties *string
	daemon                                           int
	bouncemail, spambounce, softbounce               bool
	syslog, invisible, showdots                      bool
}

// bail aborts the parse; the error is in parser.fatal.
type bail struct{}

// parser is a recursive-descent equivalent of rcfile_y.y. It detects each
// syntax error at the same token as fetchmail's bison parser.
type parser struct {
	lx    *lexer
	tok   token // lookahead
	prev  token // last consumed token
	file  string
	prog  string
	rcdir string
	home  string // for "~" in paths when $HOME is unset
	run   globals
	// spelled maps a path option whose "~" was expanded to fetchmail's
	// spelling of it ("<rcdir>/~/x"), which --configdump shows.
	spelled map[*string]string
	// pathWarns are paths with a "~name" of no known user.
	pathWarns []Warning
	cur       query
	queries   []*query
	errs      []*SyntaxError // "server option after user options" so far
	fatal     *SyntaxError
	entry     bool    // next recorded user is the first of its entry
	words     []token // the last unquoted non-keyword words read (for hints)
}

func (p *parser) advance() {
	p.prev = p.tok
	p.tok = p.lx.next()
	if p.tok.bare {
		if len(p.words) == maxHintWords {
			p.words = p.words[1:]
		}
		p.words = append(p.words, p.tok)
	}
}

// peek returns the token after the lookahead without consuming anything.
func (p *parser) peek() token {
	cp := *p.lx
	return cp.next()
}

func tokenText(t token) string {
	s := t.text
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	if t.kind == tEOF || s == "" {
		return "end of input"
	}
	return s
}

// syntaxError stops the parse with "syntax error at TOKEN".
func (p *parser) syntaxError(t token) {
	e := &SyntaxError{File: p.file, Line: t.line, Token: tokenText(t), Msg: "syntax error", Prog: p.prog}
	e.Hint, e.HintLine = p.hint()
	p.fail(e)
}

// fail stops the parse; messages already reported come first.
func (p *parser) fail(e *SyntaxError) {
	p.fatal = chain(append(p.errs, e))
	panic(bail{})
}

// chain turns a list of messages into one SyntaxError (first + More).
func chain(list []*SyntaxError) *SyntaxError {
	if len(list) == 0 {
		return nil
	}
	first := *list[0]
	first.More = append([]*SyntaxError(nil), list[1:]...)
	return &first
}

func (p *parser) expectString() string {
	if p.tok.kind != tSTRING {
		p.syntaxError(p.tok)
	}
	s := p.tok.str
	p.advance()
	return s
}

func (p *parser) expectNumber() int {
	if p.tok.kind != tNUMBER {
		p.syntaxError(p.tok)
	}
	n := p.tok.num
	p.advance()
	return n
}

func (p *parser) strPtr() *string {
	s := p.expectString()
	return &s
}

// pathPtr reads a path option: "~" and "~name" are expanded, and a
// relative path is taken relative to the rc file's directory, as fetchmail
// does (prependdir).
func (p *parser) pathPtr() *string {
	line := p.tok.line
	raw := p.expectString()
	s := prependdir(raw, p.rcdir)
	exp, ok, err := expandTilde(raw, p.home)
	if err != nil {
		p.pathWarns = append(p.pathWarns, Warning{File: p.file, Line: line, Prog: p.prog,
			Msg: "warning: " + strconv.Quote(raw) + ": " + err.Error() + " to expand \"~\" for; the path is taken as " + strconv.Quote(s)})
	}
	if !ok {
		return &s
	}
	if p.spelled == nil {
		p.spelled = map[*string]string{}
	}
	p.spelled[&exp] = s
	return &exp
}

// parseAll is rcfile: { statement }.
func (p *parser) parseAll() {
	p.run = globals{bouncemail: true, softbounce: true}
	p.advance()
	for p.tok.kind != tEOF {
		switch p.tok.kind {
		case tSET:
			p.setStatement()
		case tPOLL, tSKIP, tDEFAULTS:
			p.serverStatement()
		default:
			p.syntaxError(p.tok)
		}
	}
}

func (p *parser) setStatement() {
	p.advance()
	t := p.tok.kind
	p.advance()
	optmap := func() {
		if p.tok.kind == tMAP {
			p.advance()
		}
	}
	switch t {
	case tLOGFILE:
		optmap()
		p.run.logfile = p.pathPtr()
	case tIDFILE:
		optmap()
		p.run.idfile = p.pathPtr()
	case tPIDFILE:
		optmap()
		p.run.pidfile = p.pathPtr()
	case tDAEMON:
		optmap()
		p.run.daemon = p.expectNumber()
	case tPOSTMASTER:
		optmap()
		p.run.postmaster = p.strPtr()
	case tPROPERTIES:
		optmap()
		p.run.properties = p.strPtr()
	case tNO:
		if !p.setFlag(p.tok.kind, false) {
			p.syntaxError(p.tok)
		}
		p.advance()
	default:
		if !p.setFlag(t, true) {
			p.syntaxError(p.prev)
		}
	}
}

func (p *parser) setFlag(t tokKind, v bool) bool {
	switch t {
	case tBOUNCEMAIL:
		p.run.bouncemail = v
	case tSPAMBOUNCE:
		p.run.spambounce = v
	case tSOFTBOUNCE:
		p.run.softbounce = v
	case tSYSLOG:
		p.run.syslog = v
	case tINVISIBLE:
		p.run.invisible = v
	case tSHOWDOTS:
		// fetchmail stores FLAG_TRUE or FLAG_FALSE and never normalises
		// it: "set no showdots" dumps (and acts) as true.
		p.run.showdots = true
	default:
		return false
	}
	return true
}

// serverStatement is define_server serverspecs [userspecs [serv_option]].
func (p *parser) serverStatement() {
	t := p.tok
	p.advance()
	name := "defaults"
	if t.kind != tDEFAULTS {
		name = p.expectString()
	}
	p.cur = query{srv: rawServer{pollname: name, skip: t.kind == tSKIP, line: t.line}, line: t.line}
	p.entry = true

	pendingNo := false
serverspecs:
	for {
		switch {
		case p.isServStart(false):
			p.servOption()
		case p.tok.kind == tNO:
			p.advance()
			if p.servNo(p.tok) {
				p.advance()
				continue
			}
			if !p.isUserNo(p.tok) {
				p.syntaxError(p.tok)
			}
			pendingNo = true
			break serverspecs
		default:
			break serverspecs
		}
	}

	p.cur.line = p.tok.line // where the (first) user description starts
	if pendingNo {
		p.cur.line = p.prev.line
	}
	switch {
	case pendingNo || p.isUserStart(false):
		if pendingNo {
			p.userNo()
		}
		p.userOptions()
		p.record()
	case p.tok.kind == tUSERNAME:
		for p.tok.kind == tUSERNAME {
			p.cur.line = p.tok.line
			p.userdef()
			p.userOptions()
			p.record()
		}
	default:
		p.cur.line = p.cur.srv.line
		p.record()
		return
	}

	// The error production: define_server serverspecs userspecs serv_option.
	if p.isServStart(false) {
		consistent := p.servOption()
		at := p.tok
		if consistent {
			at = p.prev
		}
		p.errs = append(p.errs, &SyntaxError{File: p.file, Line: at.line, Token: tokenText(at),
			Msg: "server option after user options", Prog: p.prog})
	}
}

// record appends the current query and resets the user part, keeping the
// server options (fetchmail's record_current + user_reset).
func (p *parser) record() {
	q := p.cur
	q.srv.aka = append([]string(nil), p.cur.srv.aka...)
	q.srv.localdomains = append([]string(nil), p.cur.srv.localdomains...)
	q.lead = p.entry
	p.entry = false
	p.queries = append(p.queries, &q)
	p.cur.usr = rawUser{}
}

// Extension keywords, recognised only as unquoted words where an option
// may start.
var extServer = map[string]bool{"idletimeout": true, "sshtunnel": true}
var extUser = map[string]bool{"forceidle": true, "noforceidle": true, "passwordfile": true,
	"passwordfd": true, "keepdays": true, "tokencommand": true, "maildir": true, "mbox": true,
	"oauthprovider": true, "oauthauthurl": true, "oauthdeviceurl": true, "oauthtokenurl": true, "oauthscope": true, "oauthclientid": true, "oauthclientsecret": true}

// isExt reports whether the lookahead is extension keyword set. In a list
// (inList), it must also be followed by its argument, so that lists of
// names keep fetchmail's meaning as far as possible.
func (p *parser) isExt(set map[string]bool, inList bool) bool {
	t := p.tok
	if t.kind != tSTRING || t.text != t.str || !set[t.str] {
		return false
	}
	if !inList {
		return true
	}
	switch t.str {
	case "passwordfd", "idletimeout", "keepdays":
		return p.peek().kind == tNUMBER
	case "forceidle", "noforceidle": // no argument: not if the list may go on
		pk := p.peek()
		switch pk.kind {
		case tSTRING:
			return pk.text == pk.str && (extUser[pk.str] || extServer[pk.str])
		case tHERE, tTHERE, tMAP:
			return false
		}
		return true
	}
	return p.peek().kind == tSTRING
}

func (p *parser) isServStart(inList bool) bool {
	switch p.tok.kind {
	case tAKA, tVIA, tLOCALDOMAINS, tPROTOCOL, tPRINCIPAL, tESMTPNAME, tESMTPPASSWORD,
		tUIDL, tCHECKALIAS, tSERVICE, tPORT, tINTERVAL, tAUTHENTICATE, tTIMEOUT,
		tENVELOPE, tQVIRTUAL, tINTERFACE, tMONITOR, tPLUGIN, tPLUGOUT, tDNS,
		tTRACEPOLLS, tBADHEADER:
		return true
	}
	return p.isExt(extServer, inList)
}

func (p *parser) isUserStart(inList bool) bool {
	switch p.tok.kind {
	case tTO, tIS, tPASSWORD, tFOLDER, tSMTPHOST, tFETCHDOMAINS, tSMTPADDRESS,
		tSMTPNAME, tSPAMRESPONSE, tMDA, tBSMTP, tLMTP, tPRECONNECT, tPOSTCONNECT,
		tKEEP, tFLUSH, tLIMITFLUSH, tFETCHALL, tREWRITE, tFORCECR, tSTRIPCR,
		tPASS8BITS, tDROPSTATUS, tDROPDELIVERED, tMIMEDECODE, tIDLE, tSSL, tSSLKEY,
		tSSLCERT, tSSLPROTO, tSSLCERTCK, tSSLCERTFILE, tSSLCERTPATH, tSSLCOMMONNAME,
		tSSLFINGERPRINT, tLIMIT, tWARNINGS, tFETCHLIMIT, tFETCHSIZELIMIT, tFASTUIDL,
		tBATCHLIMIT, tEXPUNGE, tPROPERTIES, tNO:
		return true
	}
	return p.isExt(extUser, inList)
}

// listContinues reports whether a list of names goes on with the lookahead.
func (p *parser) listContinues() bool {
	return p.tok.kind == tSTRING && !p.isServStart(true) && !p.isUserStart(true)
}

func (p *parser) stringList() []string {
	list := []string{p.expectString()}
	for p.listContinues() {
		list = append(list, p.tok.str)
		p.advance()
	}
	return list
}

// servNo applies "no X" for a server flag X, reporting whether X was one.
func (p *parser) servNo(t token) bool {
	s := &p.cur.srv
	switch t.kind {
	case tUIDL:
		s.uidl = flagFalse
	case tCHECKALIAS:
		s.checkalias = flagFalse
	case tDNS:
		s.dns = flagFalse
	case tENVELOPE:
		env := envDisabled
		s.envelope = &env
	case tTRACEPOLLS:
		s.tracepolls = flagFalse
	default:
		return false
	}
	return true
}

// servOption parses one serv_option. It reports whether bison would reduce
// it without reading a lookahead token (true for all but the lists).
func (p *parser) servOption() (consistent bool) {
	s := &p.cur.srv
	t := p.tok
	p.advance()
	switch t.kind {
	case tAKA:
		s.aka = append(s.aka, p.stringList()...)
		return false
	case tLOCALDOMAINS:
		s.localdomains = append(s.localdomains, p.stringList()...)
		return false
	case tVIA:
		s.via = p.strPtr()
	case tPROTOCOL:
		switch p.tok.kind {
		case tPROTO:
			s.protocol = p.tok.val
		case tKPOP:
			s.protocol = protoPOP3
			if s.auth == authPassword {
				s.auth = authKerberosV5
			}
			kpop := "kpop"
			s.service = &kpop
		case tSDPS:
			s.protocol = protoPOP3
			s.sdps = true
		default:
			p.syntaxError(p.tok)
		}
		p.advance()
	case tPRINCIPAL:
		s.principal = p.strPtr()
	case tESMTPNAME:
		s.esmtpname = p.strPtr()
	case tESMTPPASSWORD:
		s.esmtppass = p.strPtr()
	case tUIDL:
		s.uidl = flagTrue
	case tCHECKALIAS:
		s.checkalias = flagTrue
	case tDNS:
		s.dns = flagTrue
	case tTRACEPOLLS:
		s.tracepolls = flagTrue
	case tSERVICE:
		switch p.tok.kind {
		case tSTRING:
			s.service = p.strPtr()
		case tNUMBER:
			v := portText(p.expectNumber())
			s.service = &v
		default:
			p.syntaxError(p.tok)
		}
	case tPORT:
		v := portText(p.expectNumber())
		s.service = &v
	case tINTERVAL:
		s.interval = p.expectNumber()
	case tTIMEOUT:
		s.timeout = p.expectNumber()
	case tAUTHENTICATE:
		switch {
		case p.tok.kind == tAUTHTYPE:
			s.auth = p.tok.val
		case p.tok.kind == tSTRING && p.tok.text == "implicit":
			s.auth = authSSH
			p.lx.state = stInitial
		case p.tok.kind == tSTRING && p.tok.text == "oauthbearer":
			s.auth = authOAuthBearer
			p.lx.state = stInitial
		default:
			p.syntaxError(p.tok)
		}
		p.advance()
	case tENVELOPE:
		skip := 0
		if p.tok.kind == tNUMBER {
			skip = p.expectNumber()
		}
		s.envelope = p.strPtr()
		s.envskip = skip
	case tQVIRTUAL:
		s.qvirtual = p.strPtr()
	case tINTERFACE:
		v := p.expectString()
		if msg := checkInterface(v); msg != "" {
			p.fail(&SyntaxError{File: p.file, Msg: msg, Prog: p.prog})
		}
		s.iface = &v
	case tMONITOR:
		s.monitor = p.strPtr()
	case tPLUGIN:
		s.plugin = p.strPtr()
	case tPLUGOUT:
		s.plugout = p.strPtr()
	case tBADHEADER:
		switch p.tok.kind {
		case tACCEPT:
			s.badheader = 1
		case tREJECT:
			s.badheader = 0
		default:
			p.syntaxError(p.tok)
		}
		p.advance()
	case tSTRING: // extensions
		switch t.str {
		case "idletimeout":
			s.idletimeout = p.expectNumber()
		case "sshtunnel":
			s.sshtunnel = p.strPtr()
		}
	}
	return true
}

// userdef is USERNAME STRING [THERE] | USERNAME mapping_list HERE.
func (p *parser) userdef() {
	p.advance()
	first := p.expectString()
	u := &p.cur.usr
	switch {
	case p.tok.kind == tTHERE:
		u.remotename = &first
		p.advance()
	case p.tok.kind == tMAP || p.tok.kind == tHERE || p.listContinues():
		p.mappingList(first)
		if p.tok.kind != tHERE {
			p.syntaxError(p.tok)
		}
		p.advance()
	default:
		u.remotename = &first
	}
}

// mappingList parses the rest of a mapping_list whose first STRING has
// been consumed.
func (p *parser) mappingList(first string) {
	p.mapping(first)
	for p.listContinues() {
		s := p.tok.str
		p.advance()
		p.mapping(s)
	}
}

func (p *parser) mapping(name string) {
	u := &p.cur.usr
	if p.tok.kind == tMAP {
		p.advance()
		local := p.expectString()
		u.localnames = append(u.localnames, LocalName{Remote: name, Local: local, Pair: true})
		return
	}
	if name == "*" {
		u.wildcard = true
		return
	}
	u.localnames = append(u.localnames, LocalName{Local: name})
}

func (p *parser) userOptions() {
	for p.isUserStart(false) {
		p.userOption()
	}
}

func (p *parser) isUserNo(t token) bool {
	switch t.kind {
	case tKEEP, tFLUSH, tLIMITFLUSH, tFETCHALL, tREWRITE, tFORCECR, tSTRIPCR,
		tPASS8BITS, tDROPSTATUS, tDROPDELIVERED, tMIMEDECODE, tIDLE, tSSL, tSSLCERTCK:
		return true
	case tSTRING:
		return t.text == "forceidle"
	}
	return false
}

// userNo applies "no X" for the user flag in the lookahead (NO consumed).
func (p *parser) userNo() {
	if !p.isUserNo(p.tok) {
		p.syntaxError(p.tok)
	}
	*p.userFlag(p.tok) = flagFalse
	p.advance()
}

func (p *parser) userFlag(t token) *int {
	u := &p.cur.usr
	switch t.kind {
	case tKEEP:
		return &u.keep
	case tFLUSH:
		return &u.flush
	case tLIMITFLUSH:
		return &u.limitflush
	case tFETCHALL:
		return &u.fetchall
	case tREWRITE:
		return &u.rewrite
	case tFORCECR:
		return &u.forcecr
	case tSTRIPCR:
		return &u.stripcr
	case tPASS8BITS:
		return &u.pass8bits
	case tDROPSTATUS:
		return &u.dropstatus
	case tDROPDELIVERED:
		return &u.dropdelivered
	case tMIMEDECODE:
		return &u.mimedecode
	case tIDLE:
		return &u.idle
	case tSSL:
		return &u.ssl
	case tSSLCERTCK:
		return &u.sslcertck
	}
	return &u.forceidle
}

func (p *parser) userOption() {
	u := &p.cur.usr
	t := p.tok
	p.advance()
	switch t.kind {
	case tTO, tIS:
		first := p.expectString()
		if t.kind == tIS && p.tok.kind == tTHERE {
			u.remotename = &first
			p.advance()
			return
		}
		p.mappingList(first)
		if p.tok.kind == tHERE {
			p.advance()
		}
	case tPASSWORD:
		u.password = p.strPtr()
	case tFOLDER:
		u.mailboxes = append(u.mailboxes, p.stringList()...)
	case tSMTPHOST:
		u.smtphunt = append(u.smtphunt, p.stringList()...)
	case tFETCHDOMAINS:
		u.domainlist = append(u.domainlist, p.stringList()...)
	case tSMTPADDRESS:
		u.smtpaddress = p.strPtr()
	case tSMTPNAME:
		u.smtpname = p.strPtr()
	case tSPAMRESPONSE:
		u.antispam = append(u.antispam, p.expectNumber())
		for p.tok.kind == tNUMBER {
			u.antispam = append(u.antispam, p.expectNumber())
		}
	case tMDA:
		u.mda = p.strPtr()
	case tBSMTP:
		u.bsmtp = p.pathPtr()
	case tLMTP:
		u.listener = 2
	case tPRECONNECT:
		u.preconnect = p.strPtr()
	case tPOSTCONNECT:
		u.postconnect = p.strPtr()
	case tKEEP, tFLUSH, tLIMITFLUSH, tFETCHALL, tREWRITE, tFORCECR, tSTRIPCR,
		tPASS8BITS, tDROPSTATUS, tDROPDELIVERED, tMIMEDECODE, tIDLE, tSSL, tSSLCERTCK:
		*p.userFlag(t) = flagTrue
	case tSSLKEY:
		u.sslkey = p.pathPtr()
	case tSSLCERT:
		u.sslcert = p.pathPtr()
	case tSSLPROTO:
		u.sslproto = p.strPtr()
	case tSSLCERTFILE:
		u.sslcertfile = p.pathPtr()
	case tSSLCERTPATH:
		u.sslcertpath = p.pathPtr()
	case tSSLCOMMONNAME:
		u.sslcommonname = p.strPtr()
	case tSSLFINGERPRINT:
		u.sslfingerprint = p.strPtr()
	case tNO:
		p.userNo()
	case tLIMIT:
		u.limit = numIn(p.expectNumber())
	case tWARNINGS:
		u.warnings = numIn(p.expectNumber())
	case tFETCHLIMIT:
		u.fetchlimit = numIn(p.expectNumber())
	case tFETCHSIZELIMIT:
		u.fetchsizelimit = numIn(p.expectNumber())
	case tFASTUIDL:
		u.fastuidl = numIn(p.expectNumber())
	case tBATCHLIMIT:
		u.batchlimit = numIn(p.expectNumber())
	case tEXPUNGE:
		u.expunge = numIn(p.expectNumber())
	case tPROPERTIES:
		u.properties = p.strPtr()
	case tSTRING: // extensions
		switch t.str {
		case "forceidle":
			u.forceidle = flagTrue
		case "noforceidle":
			u.forceidle = flagFalse
		case "passwordfile":
			u.passwordfile = p.pathPtr()
		case "passwordfd":
			n := p.expectNumber()
			u.passwordfd = &n
		case "keepdays":
			t := p.tok
			n := p.expectNumber()
			if n < 0 {
				p.fail(&SyntaxError{File: p.file, Line: t.line, Token: tokenText(t), Msg: "keepdays takes 0 or more days, not a negative number", Prog: p.prog})
			}
			u.keepdays = &n
		case "tokencommand":
			u.tokencommand = p.strPtr()
		case "oauthprovider":
			u.oauthprovider = p.strPtr()
		case "oauthauthurl":
			u.oauthauthurl = p.strPtr()
		case "oauthdeviceurl":
			u.oauthdeviceurl = p.strPtr()
		case "oauthtokenurl":
			u.oauthtokenurl = p.strPtr()
		case "oauthscope":
			u.oauthscope = p.strPtr()
		case "oauthclientid":
			u.oauthclientid = p.strPtr()
		case "oauthclientsecret":
			u.oauthclientsecret = p.strPtr()
		case "maildir":
			u.maildir = p.pathPtr()
		case "mbox":
			u.mbox = p.pathPtr()
		}
	}
}

// prependdir is fetchmail's prependdir: relative names are put under dir.
func prependdir(file, dir string) string {
	if file == "" || file[0] == '/' || file == "-" || dir == "" {
		return file
	}
	if strings.HasSuffix(dir, "/") {
		return dir + file
	}
	return dir + "/" + file
}

// portText is a numeric port or service as fetchmail keeps it: printed
// into a buffer of 10 bytes, so a number of more than 9 characters is cut
// to its first 9 ("port 1234567890" is service "123456789"; invalid
// either way, but fetchmail's messages and --configdump show the cut).
func portText(n int) string {
	v := strconv.Itoa(n)
	if len(v) > 9 {
		v = v[:9]
	}
	return v
}

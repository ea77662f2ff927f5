package rcparse

import (
	"bytes"
	"strconv"
)

// tokKind is the kind of a lexical token, mirroring rcfile_y.y's tokens.
type tokKind int

const (
	tEOF tokKind = iota
	tSTRING
	tNUMBER
	tPROTO    // protocol name; val holds the protocol
	tAUTHTYPE // authentication type; val holds the method
	tSDPS
	tKPOP
	tMAP // "="
	tNO
	tSET
	tLOGFILE
	tIDFILE
	tPIDFILE
	tDAEMON
	tSYSLOG
	tINVISIBLE
	tSHOWDOTS
	tPOSTMASTER
	tBOUNCEMAIL
	tSPAMBOUNCE
	tSOFTBOUNCE
	tWARNINGS
	tTRACEPOLLS
	tDEFAULTS
	tPOLL
	tSKIP
	tVIA
	tAKA
	tLOCALDOMAINS
	tPROTOCOL
	tSERVICE
	tPORT
	tINTERVAL
	tAUTHENTICATE
	tTIMEOUT
	tENVELOPE
	tQVIRTUAL
	tPRINCIPAL
	tESMTPNAME
	tESMTPPASSWORD
	tBADHEADER
	tACCEPT
	tREJECT
	tUSERNAME
	tPASSWORD
	tFOLDER
	tSMTPHOST
	tFETCHDOMAINS
	tSMTPADDRESS
	tSMTPNAME
	tSPAMRESPONSE
	tMDA
	tBSMTP
	tLMTP
	tPRECONNECT
	tPOSTCONNECT
	tINTERFACE
	tMONITOR
	tPLUGIN
	tPLUGOUT
	tBATCHLIMIT
	tFETCHLIMIT
	tFETCHSIZELIMIT
	tFASTUIDL
	tEXPUNGE
	tPROPERTIES
	tIS
	tHERE
	tTHERE
	tTO
	tKEEP
	tFLUSH
	tLIMITFLUSH
	tFETCHALL
	tREWRITE
	tFORCECR
	tSTRIPCR
	tPASS8BITS
	tDROPSTATUS
	tDROPDELIVERED
	tMIMEDECODE
	tIDLE
	tDNS
	tUIDL
	tSSL
	tSSLKEY
	tSSLCERT
	tSSLPROTO
	tSSLCERTCK
	tSSLCERTFILE
	tSSLCERTPATH
	tSSLCOMMONNAME
	tSSLFINGERPRINT
	tCHECKALIAS
	tLIMIT
	tNOISE // never returned: with, and, has, wants, options, ; : ,
	tGLUEDNO
)

// Lexer start conditions (rcfile_l.l's %s NAME AUTH).
type lexState int

const (
	stInitial lexState = iota
	stName
	stAuth
)

// kwRule is one fixed-string lexer rule.
type kwRule struct {
	kind  tokKind
	val   int      // protocol or auth method for tPROTO/tAUTHTYPE
	state lexState // -1: any state
	next  lexState // state after the token; -1: unchanged
}

const anyState lexState = -1

// keywords maps each fixed word of rcfile_l.l (6.4.37) to its rule.
var keywords = map[string]kwRule{}

func kw(kind tokKind, words ...string) {
	for _, w := range words {
		keywords[w] = kwRule{kind: kind, state: anyState, next: anyState}
	}
}

func init() {
	kw(tSET, "set")
	kw(tLOGFILE, "logfile")
	kw(tIDFILE, "idfile")
	kw(tPIDFILE, "pidfile")
	kw(tDAEMON, "daemon")
	kw(tSYSLOG, "syslog")
	kw(tINVISIBLE, "invisible")
	kw(tSHOWDOTS, "showdots")
	kw(tPOSTMASTER, "postmaster")
	kw(tBOUNCEMAIL, "bouncemail")
	kw(tSPAMBOUNCE, "spambounce")
	kw(tSOFTBOUNCE, "softbounce")
	kw(tWARNINGS, "warnings")
	kw(tTRACEPOLLS, "tracepolls")
	kw(tDEFAULTS, "defaults")
	kw(tPOLL, "server", "poll")
	kw(tSKIP, "skip")
	kw(tVIA, "via")
	kw(tAKA, "aka")
	kw(tLOCALDOMAINS, "local", "localdomains")
	kw(tPROTOCOL, "proto", "protocol")
	kw(tSERVICE, "service")
	kw(tPORT, "port")
	kw(tINTERVAL, "interval")
	for _, w := range []string{"preauth", "preauthenticate", "auth", "authenticate"} {
		keywords[w] = kwRule{kind: tAUTHENTICATE, state: anyState, next: stAuth}
	}
	auth := func(val int, words ...string) {
		for _, w := range words {
			keywords[w] = kwRule{kind: tAUTHTYPE, val: val, state: anyState, next: stInitial}
		}
	}
	auth(authAny, "any")
	auth(authGSSAPI, "gssapi")
	auth(authKerberosV4, "kerberos4", "kerberos_v4", "kerberos")
	auth(authKerberosV5, "kerberos5", "kerberos_v5")
	auth(authSSH, "ssh")
	auth(authExternal, "external")
	auth(authOTP, "otp", "opie")
	auth(authCRAMMD5, "cram", "cram-md5")
	auth(authMSN, "msn")
	auth(authNTLM, "ntlm")
	// "password" is an auth type only in the AUTH state; elsewhere it is
	// the PASSWORD keyword (handled in lookupKeyword).
	kw(tTIMEOUT, "timeout")
	kw(tENVELOPE, "envelope")
	kw(tQVIRTUAL, "qvirtual")
	kw(tPRINCIPAL, "principal")
	kw(tESMTPNAME, "esmtpname")
	kw(tESMTPPASSWORD, "esmtppassword")
	kw(tBADHEADER, "bad-header")
	kw(tACCEPT, "accept")
	kw(tREJECT, "reject")
	for _, w := range []string{"user", "username"} {
		keywords[w] = kwRule{kind: tUSERNAME, state: anyState, next: stName}
	}
	kw(tFOLDER, "folder", "folders")
	kw(tSMTPHOST, "smtp", "smtphost")
	kw(tFETCHDOMAINS, "fetchdomains")
	kw(tSMTPADDRESS, "smtpaddress")
	kw(tSMTPNAME, "smtpname")
	kw(tSPAMRESPONSE, "antispam")
	kw(tMDA, "mda")
	kw(tBSMTP, "bsmtp")
	kw(tLMTP, "lmtp")
	kw(tPRECONNECT, "pre", "preconnect")
	kw(tPOSTCONNECT, "post", "postconnect")
	kw(tINTERFACE, "interface")
	kw(tMONITOR, "monitor")
	kw(tPLUGIN, "plugin")
	kw(tPLUGOUT, "plugout")
	kw(tBATCHLIMIT, "batchlimit")
	kw(tFETCHLIMIT, "fetchlimit")
	kw(tFETCHSIZELIMIT, "fetchsizelimit")
	kw(tFASTUIDL, "fastuidl")
	kw(tEXPUNGE, "expunge")
	kw(tPROPERTIES, "properties")
	keywords["is"] = kwRule{kind: tIS, state: anyState, next: stName}
	keywords["to"] = kwRule{kind: tTO, state: anyState, next: stName}
	kw(tHERE, "here")
	kw(tTHERE, "there")
	keywords["="] = kwRule{kind: tMAP, state: anyState, next: stName}
	kw(tGLUEDNO, "nobouncemail", "nouidl", "nocheckalias", "nodns", "noenvelope",
		"nokeep", "noflush", "nolimitflush", "nofetchall", "norewrite", "noforcecr",
		"nostripcr", "nopass8", "nopass8bits", "nodropstatus", "nodropdelivered",
		"nomimedec", "nomimedecode", "nospambounce", "noidle")
	kw(tNO, "no")
	kw(tKEEP, "keep")
	kw(tFLUSH, "flush")
	kw(tLIMITFLUSH, "limitflush")
	kw(tFETCHALL, "fetchall")
	kw(tREWRITE, "rewrite")
	kw(tFORCECR, "forcecr")
	kw(tSTRIPCR, "stripcr")
	kw(tPASS8BITS, "pass8", "pass8bits")
	kw(tDROPSTATUS, "dropstatus")
	kw(tDROPDELIVERED, "dropdelivered")
	kw(tMIMEDECODE, "mimedec", "mimedecode")
	kw(tIDLE, "idle")
	kw(tDNS, "dns")
	kw(tUIDL, "uidl")
	kw(tSSL, "ssl")
	kw(tSSLKEY, "sslkey")
	kw(tSSLCERT, "sslcert")
	kw(tSSLPROTO, "sslproto")
	kw(tSSLCERTCK, "sslcertck")
	kw(tSSLCERTFILE, "sslcertfile")
	kw(tSSLCERTPATH, "sslcertpath")
	kw(tSSLCOMMONNAME, "sslcommonname")
	kw(tSSLFINGERPRINT, "sslfingerprint")
	kw(tCHECKALIAS, "checkalias")
	kw(tLIMIT, "limit")
	kw(tNOISE, "with", "and", "has", "wants", "options", ";", ":", ",")
	proto := func(val int, lower string, upper string) {
		for _, w := range []string{lower, upper} {
			keywords[w] = kwRule{kind: tPROTO, val: val, state: anyState, next: anyState}
		}
	}
	proto(protoAuto, "auto", "AUTO")
	proto(protoPOP2, "pop2", "POP2")
	proto(protoPOP3, "pop3", "POP3")
	proto(protoIMAP, "imap", "IMAP")
	proto(protoAPOP, "apop", "APOP")
	proto(protoRPOP, "rpop", "RPOP")
	proto(protoETRN, "etrn", "ETRN")
	proto(protoODMR, "odmr", "ODMR")
	kw(tSDPS, "sdps", "SDPS")
	kw(tKPOP, "kpop", "KPOP")
	for w := range keywords {
		if len(w) > maxKeywordLen {
			maxKeywordLen = len(w)
		}
	}
}

var maxKeywordLen int

// token is one lexical token. text is the raw matched text (fetchmail's
// yytext, used in error messages); str is the string value after escape
// processing.
type token struct {
	kind tokKind
	text string
	str  string
	num  int
	val  int
	line int  // prc_lineno after the token was read
	bare bool // an unquoted word that is no keyword (a misspelt one, perhaps)
}

// lexer is a hand-written equivalent of fetchmail's flex scanner: at each
// position every rule is tried and the longest match wins, ties going to
// the rule listed first in rcfile_l.l.
type lexer struct {
	src   []byte
	pos   int
	line  int
	state lexState
	// cached positions of the next '"', '\'' and '\n' (-1: none left), so
	// that scanning stays linear even for many unterminated quotes.
	nextAt [3]int
	nextOK [3]bool
}

// find returns the index of the first c at or after from, or -1.
func (lx *lexer) find(slot int, c byte, from int) int {
	if lx.nextOK[slot] && (lx.nextAt[slot] < 0 || lx.nextAt[slot] >= from) {
		return lx.nextAt[slot]
	}
	i := bytes.IndexByte(lx.src[from:], c)
	if i >= 0 {
		i += from
	}
	lx.nextAt[slot], lx.nextOK[slot] = i, true
	return i
}

func newLexer(src []byte) *lexer { return &lexer{src: src, line: 1} }

func isDelim(c byte) bool {
	switch c {
	case '=', ';', ':', ',', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

// lookupKeyword returns the rule for word w in the current state.
func (lx *lexer) lookupKeyword(w string) (kwRule, bool) {
	switch w {
	case "password":
		if lx.state == stAuth {
			return kwRule{kind: tAUTHTYPE, val: authPassword, state: anyState, next: stInitial}, true
		}
		return kwRule{kind: tPASSWORD, state: anyState, next: stName}, true
	case "pass":
		if lx.state == stAuth {
			return kwRule{}, false
		}
		return kwRule{kind: tPASSWORD, state: anyState, next: stName}, true
	}
	r, ok := keywords[w]
	return r, ok
}

// next returns the next significant token.
func (lx *lexer) next() token {
	for {
		src, p := lx.src, lx.pos
		if p >= len(src) {
			return token{kind: tEOF, line: lx.line}
		}
		c := src[p]
		if c == ' ' || c == '\t' || c == '\r' {
			lx.pos++
			continue
		}
		// Lengths of the competing rules.
		quoted := 0
		if c == '"' || c == '\'' {
			slot := 0
			if c == '\'' {
				slot = 1
			}
			if i := lx.find(slot, c, p+1); i >= 0 {
				quoted = i - p + 1
			}
		}
		run := 0
		for p+run < len(src) && !isDelim(src[p+run]) {
			run++
		}
		kwLen, kwr := 0, kwRule{}
		for l := 1; l <= maxKeywordLen && p+l <= len(src); l++ {
			if r, ok := lx.lookupKeyword(string(src[p : p+l])); ok {
				kwLen, kwr = l, r
			}
		}
		nl := 0
		switch {
		case c == '\n':
			nl = 1
		case c == '\\' && p+1 < len(src) && src[p+1] == '\n':
			nl = 2
		case c == '#':
			if i := lx.find(2, '\n', p+1); i >= 0 {
				nl = i - p + 1
			}
		}
		num := 0
		{
			i := p
			if i < len(src) && src[i] == '-' {
				i++
			}
			j := i
			for j < len(src) && src[j] >= '0' && src[j] <= '9' {
				j++
			}
			if j > i {
				num = j - p
			}
		}

		// Rule order: quoted, <NAME>run, keywords, newline/comment, number, run.
		best, rule := 0, ""
		if quoted > 0 {
			best, rule = quoted, "quoted"
		}
		if lx.state == stName && run > best {
			best, rule = run, "name"
		}
		if kwLen > best {
			best, rule = kwLen, "kw"
		}
		if nl > best {
			best, rule = nl, "nl"
		}
		if num > best {
			best, rule = num, "num"
		}
		if run > best {
			best, rule = run, "string"
		}
		text := string(src[p : p+best])
		lx.pos = p + best
		switch rule {
		case "quoted":
			lx.state = stInitial
			s := escapes(src[p+1 : p+best-1])
			return token{kind: tSTRING, text: text, str: s, line: lx.line}
		case "name":
			lx.state = stInitial
			return token{kind: tSTRING, text: text, str: escapes(src[p : p+best]), line: lx.line}
		case "kw":
			if kwr.next != anyState {
				lx.state = kwr.next
			}
			switch kwr.kind {
			case tNOISE:
				continue
			case tGLUEDNO: // yyless(2): return NO, rescan the rest
				lx.pos = p + 2
				return token{kind: tNO, text: "no", line: lx.line}
			}
			return token{kind: kwr.kind, text: text, val: kwr.val, line: lx.line}
		case "nl":
			lx.line++
			continue
		case "num":
			return token{kind: tNUMBER, text: text, num: atoi(text), line: lx.line}
		default:
			return token{kind: tSTRING, text: text, str: escapes(src[p : p+best]), line: lx.line, bare: true}
		}
	}
}

// atoi mimics C atoi on glibc: strtol saturates at the 64-bit limits and the
// result is truncated to a 32-bit int.
func atoi(s string) int {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil { // out of range: ParseInt returns the saturated value
		if len(s) > 0 && s[0] == '-' {
			v = -1 << 63
		} else {
			v = 1<<63 - 1
		}
	}
	return int(int32(v))
}

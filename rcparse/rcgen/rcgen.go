// Package rcgen generates random .fetchmailrc files, valid or not, from
// fetchmail 6.4.37's keywords, values, quoting styles and noise words. It
// feeds the differential test that compares rcparse with the real
// fetchmail --configdump (build tag fetchmaildiff).
//
// The output avoids what fetchmail cannot dump reliably: bytes >= 0x80,
// more than one user in a defaults record (a use-after-free in
// fetchmail), and gofetchmail's own extension keywords.
package rcgen

import (
	"math/rand/v2"
	"strings"
)

// g is one generator run.
type g struct {
	r   *rand.Rand
	out []string
}

// Generate returns a random rc file for seed; the same seed gives the same
// file.
func Generate(seed int64) []byte {
	gen := &g{r: rand.New(rand.NewPCG(uint64(seed), 0x5eed))}
	if gen.chance(20) {
		gen.soup()
		return []byte(strings.Join(gen.out, ""))
	}
	gen.file()
	text := strings.Join(gen.out, "")
	if gen.r.IntN(4) == 0 {
		text = gen.mutate(text)
	}
	return []byte(text)
}

func (g *g) n(k int) int       { return g.r.IntN(k) }
func (g *g) chance(p int) bool { return g.r.IntN(100) < p }
func (g *g) pick(list ...string) string {
	return list[g.r.IntN(len(list))]
}

// emit appends words separated by blanks, noise or line breaks.
func (g *g) emit(words ...string) {
	for _, w := range words {
		g.out = append(g.out, w, g.sep())
	}
}

func (g *g) sep() string {
	switch g.n(20) {
	case 0:
		return "\n    "
	case 1:
		return ", "
	case 2:
		return " with "
	case 3:
		return "; "
	case 4:
		return " and "
	case 5:
		return " # comment\n  "
	case 6:
		return ":\n"
	case 7:
		return "\r\n"
	case 8:
		return " \\\n "
	case 9:
		if g.chance(30) {
			return "" // glue the next word on
		}
	}
	return " "
}

var hosts = []string{"pop.example.com", "imap.example.org", "mail", "192.0.2.7", "localhost",
	"mx-1.example.net", "host#1", "a.b"}
var words = []string{"it's", "a=b", "x\\101y", "\\x41", "pa\\ss", "alice", "bob", "joe", "x1", "Mail.Box", "secret", "p@ss", "user@example.com",
	"keep", "imap", "pop3", "here", "there", "12345", "0", "-1", "*", "a b", "semi;colon",
	"tab\tin", "back\\slash", "q\"uote", "s'quote", "#hash", "defaults", "password", "multi\nline",
	"", "ssh", "no"}

// str renders s in a random quoting style valid for it (or deliberately
// invalid now and then).
func (g *g) str(s string) string {
	hasDQ, hasSQ := strings.Contains(s, `"`), strings.Contains(s, "'")
	switch g.n(6) {
	case 0, 1:
		if !hasDQ {
			return `"` + g.escape(s) + `"`
		}
	case 2:
		if !hasSQ {
			return "'" + g.escape(s) + "'"
		}
	case 3:
		return `"` + strings.ReplaceAll(s, `"`, `\x22`) + `"`
	}
	return s // bare: may split, be a keyword or a number
}

func (g *g) escape(s string) string {
	if !g.chance(15) {
		return s
	}
	return s + g.pick(`\t`, `\x41`, `\101`, `\0101`, `\n`, `\\`, `\q`, `\x4g`, "\\\n", `\0`)
}

func (g *g) word() string { return g.str(words[g.n(len(words))]) }
func (g *g) host() string { return g.str(hosts[g.n(len(hosts))]) }
func (g *g) num() string {
	return g.pick("0", "1", "5", "60", "110", "143", "993", "995", "-1", "-7", "300", "4294967296", "25", "11110")
}
func (g *g) path() string {
	return g.str(g.pick("/dev/null", "/nonexistent/fetchmail.log", "rel/file", "/abs/file", "-", "state.log", ""))
}

func (g *g) file() {
	if g.chance(30) {
		g.emit("# generated\n")
	}
	for i := g.n(4); i > 0; i-- {
		g.set()
	}
	if g.chance(40) {
		g.entry("defaults", true)
	}
	for i := 1 + g.n(3); i > 0; i-- {
		if g.chance(15) {
			g.set()
		}
		g.entry(g.pick("poll", "poll", "skip", "server"), false)
	}
	if g.chance(80) {
		g.out = append(g.out, "\n")
	}
}

func (g *g) set() {
	switch g.n(8) {
	case 0:
		g.emit("set", "daemon", g.pick(g.num(), "= 5", `"300"`))
	case 1:
		g.emit("set", "logfile", g.pick("", "=")+" "+g.path())
	case 2:
		g.emit("set", g.pick("idfile", "pidfile"), g.path())
	case 3:
		g.emit("set", "postmaster", g.word())
	case 4:
		g.emit("set", "properties", g.word())
	default:
		g.emit("set", g.pick("", "no")+" "+g.pick("bouncemail", "spambounce", "softbounce", "syslog", "invisible", "showdots"))
	}
	g.out = append(g.out, "\n")
}

func (g *g) entry(kind string, isDefaults bool) {
	if isDefaults {
		g.emit(g.pick("defaults", "defaults", `poll "defaults"`))
	} else {
		g.emit(kind, g.host())
	}
	for i := g.n(5); i > 0; i-- {
		g.servOption()
	}
	users := g.n(3)
	if isDefaults && users > 1 {
		users = 1
	}
	if users > 0 && g.chance(35) { // implicit user
		for i := 1 + g.n(4); i > 0; i-- {
			g.userOption()
		}
	} else {
		for ; users > 0; users-- {
			g.userdef()
			for i := g.n(5); i > 0; i-- {
				g.userOption()
			}
		}
	}
	if g.chance(5) {
		g.servOption() // server option after user options
	}
	g.out = append(g.out, "\n")
}

func (g *g) servOption() {
	switch g.n(24) {
	case 0:
		g.emit("via", g.host())
	case 1:
		g.emit("aka", g.host(), g.host())
	case 2:
		g.emit(g.pick("local", "localdomains"), g.host())
	case 3, 4:
		g.emit(g.pick("proto", "protocol"), g.pick("pop3", "POP3", "imap", "IMAP", "apop", "rpop", "auto", "sdps", "kpop", "etrn", "odmr", "pop2", "Pop3", "pop3s"))
	case 5:
		g.emit("port", g.num())
	case 6:
		g.emit("service", g.pick(g.num(), `"imaps"`, "pop3s", "imap2", `"nosuch"`, `""`, `" 110 "`))
	case 7:
		g.emit(g.pick("auth", "authenticate", "preauth"), g.pick("any", "password", "cram-md5", "cram", "ntlm", "msn", "otp", "opie", "ssh", "external", "gssapi", "kerberos5", "apop", "pass"))
	case 8:
		g.emit("timeout", g.num())
	case 9:
		g.emit("interval", g.num())
	case 10:
		if g.chance(50) {
			g.emit("envelope", g.num(), g.word())
		} else {
			g.emit("envelope", g.word())
		}
	case 11:
		g.emit(g.pick("no envelope", "noenvelope"))
	case 12:
		g.emit("qvirtual", g.word())
	case 13:
		g.emit(g.pick("", "no ")+g.pick("dns", "uidl", "checkalias", "tracepolls"), "")
	case 14:
		g.emit(g.pick("nodns", "nouidl", "nocheckalias", "notracepolls"))
	case 15:
		g.emit("principal", g.word())
	case 16:
		g.emit(g.pick("esmtpname", "esmtppassword"), g.word())
	case 17:
		g.emit("bad-header", g.pick("accept", "reject", "keep"))
	case 18:
		g.emit("interface", g.str(g.pick("eth0/192.0.2.1", "eth0", "ppp0/10.0.0.1/255.0.0.0", "x/1.2.3.400")))
	case 19:
		g.emit("monitor", g.word())
	case 20:
		g.emit(g.pick("plugin", "plugout"), g.str(g.pick("ssh -W %h:%p gw", "nc %h %p")))
	default:
		g.emit(g.pick("with", "and", "options", ";"))
	}
}

func (g *g) userdef() {
	switch g.n(5) {
	case 0:
		g.emit(g.pick("user", "username"), g.word(), "there")
	case 1:
		g.emit("user", g.word(), g.word(), "here")
	case 2:
		g.emit("user", g.word()+"="+g.word(), "here")
	default:
		g.emit("user", g.word())
	}
}

func (g *g) userOption() {
	switch g.n(30) {
	case 0, 1:
		g.emit(g.pick("pass", "password"), g.word())
	case 2:
		g.emit(g.pick("is", "to"), g.word(), g.pick("here", ""))
	case 3:
		g.emit("is", g.word(), g.word(), g.pick("*", `"*"`, ""), g.pick("here", ""))
	case 4:
		g.emit(g.pick("is", "to"), g.word(), "there")
	case 5:
		g.emit(g.pick("folder", "folders"), g.word(), g.word())
	case 6:
		g.emit(g.pick("smtp", "smtphost"), g.str(g.pick("localhost", "mx/2525", "/var/run/lmtp", "h/25", "h/smtp", "h/foo")))
	case 7:
		g.emit("fetchdomains", g.host())
	case 8:
		g.emit(g.pick("smtpaddress", "smtpname", "sslproto", "sslcommonname", "sslfingerprint", "properties"), g.word())
	case 9:
		g.emit("antispam", g.num(), g.pick("", "550", "571 -1"))
	case 10:
		g.emit("mda", g.str(g.pick("/usr/bin/procmail -d %T", "maildrop")))
	case 11:
		g.emit(g.pick("bsmtp", "sslkey", "sslcert", "sslcertfile", "sslcertpath"), g.path())
	case 12:
		g.emit("lmtp")
	case 13:
		g.emit(g.pick("pre", "preconnect", "post", "postconnect"), g.str("ssh -f gw sleep 5"))
	case 14, 15, 16:
		g.emit(g.pick("", "no ", "no")+g.pick("keep", "flush", "limitflush", "fetchall", "rewrite",
			"forcecr", "stripcr", "pass8", "pass8bits", "dropstatus", "dropdelivered", "mimedec",
			"mimedecode", "idle", "ssl", "sslcertck"), "")
	case 17, 18:
		g.emit(g.pick("limit", "warnings", "fetchlimit", "fetchsizelimit", "fastuidl", "batchlimit", "expunge"), g.num())
	case 19:
		g.emit(g.pick("options", "wants", "has", ","))
	default:
		g.emit(g.pick("keep", "ssl", "fetchall", "no rewrite"))
	}
}

// soupWords are the tokens of the token soup: every keyword of fetchmail
// 6.4.37 and some look-alikes.
var soupWords = strings.Fields(`set logfile idfile pidfile daemon syslog invisible showdots postmaster
bouncemail spambounce softbounce warnings tracepolls defaults server poll skip via aka local
localdomains proto protocol service port interval preauth auth authenticate any gssapi kerberos
kerberos5 ssh external otp opie cram cram-md5 msn ntlm password timeout envelope qvirtual principal
esmtpname esmtppassword bad-header accept reject user username pass folder folders smtp smtphost
fetchdomains smtpaddress smtpname antispam mda bsmtp lmtp pre preconnect post postconnect interface
monitor plugin plugout batchlimit fetchlimit fetchsizelimit fastuidl expunge properties is here there
to = no nokeep nossl noenvelope nodns keep flush limitflush fetchall rewrite forcecr stripcr pass8
dropstatus dropdelivered mimedec idle dns uidl ssl sslkey sslcert sslproto sslcertck sslcertfile
sslcertpath sslcommonname sslfingerprint checkalias limit with and has wants options ; : , auto pop3
POP3 imap IMAP apop rpop etrn odmr sdps kpop Poll localhost pop3s 0 1 25 110 995 -3 * "*" x y host`)

// soup writes a random sequence of tokens, mostly invalid, to exercise
// the lexer and the error positions.
func (g *g) soup() {
	g.emit("poll", g.host())
	for i := 3 + g.n(25); i > 0; i-- {
		if g.chance(15) {
			g.out = append(g.out, g.word(), g.sep())
			continue
		}
		g.out = append(g.out, soupWords[g.n(len(soupWords))], g.sep())
	}
}

// mutate damages the text a little: drops, duplicates or swaps a word, or
// cuts the file short.
func (g *g) mutate(text string) string {
	f := strings.Split(text, " ")
	if len(f) < 2 {
		return text
	}
	i := g.n(len(f))
	switch g.n(4) {
	case 0:
		f = append(f[:i], f[i+1:]...)
	case 1:
		f = append(f[:i+1], f[i:]...)
	case 2:
		j := g.n(len(f))
		f[i], f[j] = f[j], f[i]
	default:
		return text[:g.n(len(text))]
	}
	return strings.Join(f, " ")
}

package rcparse

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
)

// One test per behaviour listed in the corpus README, checked against
// fetchmail 6.4.37 by hand.

func TestQuirkKeywordsCaseSensitive(t *testing.T) {
	for _, src := range []string{"Poll x\n", "poll x User a\n", "poll x proto Pop3\n"} {
		parseErr(t, src)
	}
	cfg, _ := parseOK(t, "poll x proto POP3 user a\npoll y proto IMAP\npoll z proto AUTO\n")
	if got := cfg.Servers[0].Protocol + cfg.Servers[1].Protocol + cfg.Servers[2].Protocol; got != "POP3IMAPauto" {
		t.Errorf("protocols %q", got)
	}
}

func TestQuirkLongestMatch(t *testing.T) {
	cfg, _ := parseOK(t, "poll localhost user a\n")
	if cfg.Servers[0].Pollname != "localhost" {
		t.Errorf("pollname %q", cfg.Servers[0].Pollname)
	}
	if e := parseErr(t, "poll x proto pop3s\n"); !strings.HasSuffix(e, "syntax error at pop3s") {
		t.Errorf("got %q", e)
	}
}

func TestQuirkProtocolAndAuthReserved(t *testing.T) {
	if e := parseErr(t, "poll imap proto imap\n"); e != "fetchmail:/rc/dir/fetchmailrc:1: syntax error at imap" {
		t.Errorf("got %q", e)
	}
	cfg, _ := parseOK(t, `poll "imap" proto imap`+"\n")
	if cfg.Servers[0].Pollname != "imap" {
		t.Error("quoted keyword as host name")
	}
	if e := parseErr(t, "poll x auth apop\n"); !strings.HasSuffix(e, "at apop") {
		t.Errorf("got %q", e)
	}
}

func TestQuirkUnquotedStringsSplit(t *testing.T) {
	if e := parseErr(t, "poll x user a sslfingerprint DA:3A:8A\n"); !strings.HasSuffix(e, "syntax error at 3A") {
		t.Errorf("got %q", e)
	}
	cfg, _ := parseOK(t, "poll x#1 user a#b\n")
	if s, u := firstUser(t, cfg); s.Pollname != "x#1" || u.Remotename != "a#b" {
		t.Errorf("# inside words: %q %q", s.Pollname, u.Remotename)
	}
	if e := parseErr(t, "set daemon \"300\"\n"); !strings.HasSuffix(e, `syntax error at "300"`) {
		t.Errorf("got %q", e)
	}
}

func TestQuirkNameState(t *testing.T) {
	cfg, _ := parseOK(t, "poll x user password pass keep is here\n")
	_, u := firstUser(t, cfg)
	if u.Remotename != "password" || str(u.Password) != "keep" || names(u) != "here" {
		t.Errorf("remote %q password %q names %q", u.Remotename, str(u.Password), names(u))
	}
	if e := parseErr(t, "set daemon = 300\n"); !strings.HasSuffix(e, "syntax error at 300") {
		t.Errorf("got %q", e)
	}
	cfg, _ = parseOK(t, "set logfile = keep\npoll x user 12345 pass 0000\n")
	_, u = firstUser(t, cfg)
	if u.Remotename != "12345" || str(u.Password) != "0000" {
		t.Errorf("numbers in name state: %q %q", u.Remotename, str(u.Password))
	}
	// Only the first word: "keep" after "is a" is the keep option.
	cfg, _ = parseOK(t, "poll x user u is a keep\n")
	if _, u = firstUser(t, cfg); names(u) != "a" || !u.Keep {
		t.Errorf("names %q keep %v", names(u), u.Keep)
	}
	// A quoted string glued to more text is literal, quotes included.
	cfg, _ = parseOK(t, `poll x user u pass "x\"y"`+"\n")
	if _, u = firstUser(t, cfg); str(u.Password) != `"x"y"` {
		t.Errorf("password %q", str(u.Password))
	}
	// An unterminated quote at the end of the file.
	cfg, _ = parseOK(t, `poll x user u pass "abc`)
	if _, u = firstUser(t, cfg); str(u.Password) != `"abc` {
		t.Errorf("password %q", str(u.Password))
	}
}

func TestQuirkQuotesCannotEscapeDelimiter(t *testing.T) {
	parseErr(t, `poll x user u mda "a \"b\" c"`+"\n")
	cfg, _ := parseOK(t, `poll x user u pass 'she said "hi"' mda "a\x22b" smtpname 'x\"y'`+"\n")
	_, u := firstUser(t, cfg)
	if str(u.Password) != `she said "hi"` || str(u.MDA) != `a"b` || str(u.Smtpname) != `x"y` {
		t.Errorf("%q %q %q", str(u.Password), str(u.MDA), str(u.Smtpname))
	}
}

func TestQuirkMultilineStrings(t *testing.T) {
	cfg, _ := parseOK(t, "poll x user u pass \"first\nsecond\" mda \"a \\\nb\"\n")
	_, u := firstUser(t, cfg)
	if str(u.Password) != "first\nsecond" || str(u.MDA) != "a b" {
		t.Errorf("%q %q", str(u.Password), str(u.MDA))
	}
	// Newlines inside strings are not counted.
	e := parseErr(t, "poll x\n user u pre \"a\nb\n pass \"pw\n")
	if !strings.Contains(e, ":2: syntax error at pw") {
		t.Errorf("got %q", e)
	}
}

func TestQuirkEscapes(t *testing.T) {
	cfg, _ := parseOK(t, `poll x user u pass "a\x41\101\0101\tb\\c\q" mda a\x42\`+"\n")
	_, u := firstUser(t, cfg)
	if want := "aAe\b1\tb\\cq"; str(u.Password) != want {
		t.Errorf("password %q, want %q", str(u.Password), want)
	}
	if str(u.MDA) != "aB" {
		t.Errorf("unquoted escapes %q", str(u.MDA))
	}
	cfg, _ = parseOK(t, `poll x user u pass "ab\0cd"`+"\n")
	if _, u = firstUser(t, cfg); str(u.Password) != "ab" {
		t.Errorf(`\0 ends the string: %q`, str(u.Password))
	}
}

func TestQuirkComments(t *testing.T) {
	if e := parseErr(t, "poll x user u is u here\n# no newline"); e != "fetchmail:/rc/dir/fetchmailrc:2: syntax error at #" {
		t.Errorf("got %q", e)
	}
	cfg, _ := parseOK(t, "poll x user u password #comment\n  keep\n")
	if _, u := firstUser(t, cfg); str(u.Password) != "keep" || u.Keep {
		t.Errorf("password %q keep %v", str(u.Password), u.Keep)
	}
}

func TestQuirkCRLFAndContinuation(t *testing.T) {
	cfg, _ := parseOK(t, "set daemon 300\r\npoll x proto pop3\r\n  user u \\\n keep\r\n")
	if cfg.Daemon != 300 || !cfg.Servers[0].Users[0].Keep {
		t.Errorf("%+v", cfg)
	}
}

func TestQuirkGluedNoForms(t *testing.T) {
	cfg, _ := parseOK(t, "poll x nodns nouidl nocheckalias noenvelope user u nokeep norewrite noforcecr nostripcr nopass8 nopass8bits nodropstatus nodropdelivered nomimedec nomimedecode noidle noflush nolimitflush nofetchall\n")
	s, u := firstUser(t, cfg)
	if s.DNS || s.Envelope != nil || u.Rewrite {
		t.Errorf("glued no: %+v %+v", s, u)
	}
	for _, bad := range []string{"nossl", "nosslcertck", "notracepolls"} {
		parseErr(t, "poll x user u "+bad+"\n")
	}
	parseErr(t, "set nosyslog\n")
	cfg, _ = parseOK(t, "set nobouncemail\nset no softbounce\n")
	if cfg.Bouncemail || cfg.Softbounce {
		t.Error("set no forms")
	}
}

func TestQuirkNoise(t *testing.T) {
	cfg, _ := parseOK(t, "poll x with proto pop3 and with port 110, and options:\n user u; with password p, is u here;\n and has options fetchall, keep; wants mda m;\n")
	s, u := firstUser(t, cfg)
	if s.Protocol != "POP3" || str(s.Port) != "110" || !u.Fetchall || !u.Keep || str(u.MDA) != "m" {
		t.Errorf("%+v %+v", s, u)
	}
}

func TestQuirkServerOptionAfterUserOptions(t *testing.T) {
	e := parseErr(t, "poll x\n user u pass p\n proto pop3\n")
	if e != "fetchmail:/rc/dir/fetchmailrc:3: server option after user options at pop3" {
		t.Errorf("got %q", e)
	}
	e = parseErr(t, "defaults\n limit 5\n interval 2 timeout 60\npoll x\n")
	want := "fetchmail:/rc/dir/fetchmailrc:3: server option after user options at 2\nfetchmail:/rc/dir/fetchmailrc:3: syntax error at timeout"
	if e != want {
		t.Errorf("got %q\nwant %q", e, want)
	}
	// A list option reports at the lookahead token; parsing continues.
	e = parseErr(t, "poll x user u aka a b\npoll y\n")
	if e != "fetchmail:/rc/dir/fetchmailrc:2: server option after user options at poll" {
		t.Errorf("got %q", e)
	}
	// "no dns" after user options: "no" is taken as a user option.
	if e := parseErr(t, "poll x user u no dns\n"); !strings.HasSuffix(e, "syntax error at dns") {
		t.Errorf("got %q", e)
	}
}

func TestQuirkImplicitUser(t *testing.T) {
	cfg, _ := parseOK(t, "poll x proto pop3 password foobar;\n")
	if _, u := firstUser(t, cfg); u.Remotename != "tester" || str(u.Password) != "foobar" {
		t.Errorf("%+v", u)
	}
	if e := parseErr(t, "poll x keep user u\n"); !strings.HasSuffix(e, "syntax error at user") {
		t.Errorf("got %q", e)
	}
	if e := parseErr(t, "user u\npoll x\n"); !strings.HasSuffix(e, ":1: syntax error at user") {
		t.Errorf("got %q", e)
	}
}

func TestQuirkUserIsThereHere(t *testing.T) {
	tests := []struct{ src, remote, names string }{
		{"poll x user a\n", "a", "tester"},
		{"poll x user a there\n", "a", "tester"},
		{"poll x user a b here\n", "tester", "a,b"},
		{"poll x user joe is fred there\n", "fred", "tester"},
		{"poll x user u is a here to b\n", "u", "a,b"},
		{"poll x user u is a=b c\n", "u", "a=b,c"},
		{"poll x user u is * here\n", "u", "tester,*"},
		{"poll x user u is \"*\" a\n", "u", "a,*"},
		{"poll x user \"*\"\n", "*", "tester"},
	}
	for _, tc := range tests {
		cfg, _ := parseOK(t, tc.src)
		if _, u := firstUser(t, cfg); u.Remotename != tc.remote || names(u) != tc.names {
			t.Errorf("%q: remote %q names %q, want %q %q", tc.src, u.Remotename, names(u), tc.remote, tc.names)
		}
	}
}

func TestQuirkEmptyFiles(t *testing.T) {
	for _, src := range []string{"", "# only a comment\n", "set daemon 60\n", "defaults proto imap user u keep\n"} {
		if cfg, _ := parseOK(t, src); len(cfg.Servers) != 0 {
			t.Errorf("%q: %d servers", src, len(cfg.Servers))
		}
	}
}

func TestQuirkDefaultsMerge(t *testing.T) {
	cfg, _ := parseOK(t, "defaults proto pop3 aka other localdomains d.example timeout 60 user a is b here no rewrite keep limit 10 antispam 571\n"+
		"poll x aka mine user y\npoll z localdomains e.example timeout 0 user w is v here antispam 550 limit 0\n")
	x, z := cfg.Servers[0], cfg.Servers[1]
	ux, uz := x.Users[0], z.Users[0]
	if x.Protocol != "POP3" || x.Timeout != 60 || z.Timeout != 60 {
		t.Errorf("scalars: %s %d %d", x.Protocol, x.Timeout, z.Timeout)
	}
	if strings.Join(x.Aka, ",") != "mine" || len(z.Aka) != 0 {
		t.Errorf("aka is not inherited: %v %v", x.Aka, z.Aka)
	}
	if strings.Join(x.Localdomains, ",") != "d.example" || strings.Join(z.Localdomains, ",") != "e.example" {
		t.Errorf("lists only fill empty ones: %v %v", x.Localdomains, z.Localdomains)
	}
	if names(ux) != "b" || names(uz) != "v" || ux.Rewrite || !ux.Keep || ux.Limit != 10 || uz.Limit != 0 {
		t.Errorf("user merge: %+v %+v", ux, uz)
	}
	if len(uz.Antispam) != 1 || uz.Antispam[0] != 550 || ux.Antispam[0] != 571 {
		t.Errorf("antispam %v %v", ux.Antispam, uz.Antispam)
	}
	if e := parseErr(t, "poll x\ndefaults\n"); !strings.Contains(e, `multiple "defaults" records`) {
		t.Errorf("got %q", e)
	}
	cfg, _ = parseOK(t, "poll \"defaults\" proto imap keep\npoll y user u\n")
	if len(cfg.Servers) != 1 || cfg.Servers[0].Protocol != "IMAP" || !cfg.Servers[0].Users[0].Keep {
		t.Errorf("poll \"defaults\": %+v", cfg.Servers[0])
	}
	parseErr(t, "poll defaults\n")
}

func TestQuirkZeroValues(t *testing.T) {
	cfg, _ := parseOK(t, "defaults interval 2 timeout 60 limit 5000 warnings 600 fetchlimit 10\n"+
		"poll a\npoll b timeout 0 interval 0 user u limit 0 warnings 0 fetchlimit 0\npoll c timeout -1 timeout 0\n")
	a, b := cfg.Servers[0], cfg.Servers[1]
	if a.Timeout != 60 || b.Timeout != 60 || b.Interval != 2 {
		t.Errorf("server 0 is unset: %d %d %d", a.Timeout, b.Timeout, b.Interval)
	}
	ua, ub := a.Users[0], b.Users[0]
	if ua.Limit != 5000 || ub.Limit != 0 || ub.Warnings != 0 || ub.Fetchlimit != 0 {
		t.Errorf("user 0 is explicit: %+v %+v", ua, ub)
	}
	cfg, _ = parseOK(t, "poll a timeout 0\npoll b timeout -1\npoll c timeout -5\n")
	if cfg.Servers[0].Timeout != 300 || cfg.Servers[1].Timeout != 300 || cfg.Servers[2].Timeout != 0 {
		t.Errorf("timeouts %d %d %d", cfg.Servers[0].Timeout, cfg.Servers[1].Timeout, cfg.Servers[2].Timeout)
	}
}

func TestQuirkNoPasswordMethods(t *testing.T) {
	for _, a := range []string{"ssh", "external", "gssapi", "otp", "kerberos5", "implicit"} {
		cfg, _ := parseOK(t, "poll x auth "+a+" user joe\n")
		if _, u := firstUser(t, cfg); str(u.Password) != "joe" {
			t.Errorf("auth %s: password %q", a, str(u.Password))
		}
	}
	cfg, _ := parseOK(t, "skip x auth ssh user joe\npoll y auth password user joe\n")
	if str(cfg.Servers[0].Users[0].Password) != "<nil>" || str(cfg.Servers[1].Users[0].Password) != "<nil>" {
		t.Error("skip entries and password auth get no dummy password")
	}
	if e := parseErr(t, "poll x auth kerberos_v4\n"); !strings.Contains(e, "KERBEROS v4 support") {
		t.Errorf("got %q", e)
	}
}

func TestQuirkMultidropWarnings(t *testing.T) {
	_, w := parseOK(t, "poll x user u is a b here\npoll y envelope X-To user u is a b\npoll z no envelope user u is *\n")
	if len(w) != 2 || w[0].String() != "fetchmail: warning: multidrop for x requires envelope option!" {
		t.Errorf("warnings %v", w)
	}
}

func TestQuirkLogfileAndSyslog(t *testing.T) {
	cfg, w := parseOK(t, "set syslog\nset logfile /dev/null\n")
	if str(cfg.Logfile) != "/dev/null" || cfg.Syslog {
		t.Errorf("existing logfile turns syslog off: %q %v", str(cfg.Logfile), cfg.Syslog)
	}
	cfg, w = parseOK(t, "set syslog\nset logfile /nonexistent/fetchmail.log\n")
	if cfg.Logfile != nil || !cfg.Syslog || len(w) != 1 || w[0].String() != `Logfile "/nonexistent/fetchmail.log" does not exist, ignoring logfile option.` {
		t.Errorf("missing logfile: %v %v %v", cfg.Logfile, cfg.Syslog, w)
	}
}

func TestQuirkTracepollsAndShowdots(t *testing.T) {
	cfg, _ := parseOK(t, "set no showdots\npoll x no tracepolls\npoll y\n")
	if !cfg.Showdots || !cfg.Servers[0].Tracepolls || cfg.Servers[1].Tracepolls {
		t.Errorf("never-normalised flags: %v %v %v", cfg.Showdots, cfg.Servers[0].Tracepolls, cfg.Servers[1].Tracepolls)
	}
}

func TestQuirkEnvelopeAndSDPS(t *testing.T) {
	cfg, _ := parseOK(t, "poll a no envelope\npoll b envelope 2 X-To\npoll c proto sdps\npoll d proto kpop\n")
	if cfg.Servers[0].Envelope != nil || str(cfg.Servers[1].Envelope) != "X-To" || cfg.Servers[1].Envskip != 2 {
		t.Error("envelope")
	}
	if cfg.Servers[2].Protocol != "POP3" || !cfg.Servers[2].SDPS || str(cfg.Servers[3].Port) != "kpop" {
		t.Error("sdps/kpop")
	}
}

func TestMultiIdleOption(t *testing.T) {
	src := []byte("poll x proto imap user u idle folder a b\npoll y proto imap user v idle\n")
	cfg, _, err := Parse("rc", src, Options{User: "me", Home: "/home/me", MultiIdle: true})
	if err != nil || len(cfg.Servers) != 2 || !cfg.Servers[1].Users[0].Idle {
		t.Fatalf("MultiIdle: %v", err)
	}
	if _, _, err := Parse("rc", src, Options{User: "me", Home: "/home/me"}); err == nil {
		t.Fatal("without MultiIdle the fetchmail error is gone")
	}
}

func TestQuirkPostParseErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"poll x user u idle folder a b\n", "fetchmail: Error: idle mode does not work for multiple folders or accounts!"},
		{"poll x user u idle\npoll y user v\n", "idle mode does not work"},
		{"poll x user u lmtp\n", "x configuration invalid, LMTP can't use default SMTP port"},
		{"poll x user u lmtp smtp h/smtp\n", "LMTP can't use default SMTP port"},
		{"poll x port 1234567890\n", "fetchmail: Cannot resolve service 123456789 to port number.\nfetchmail: Please specify the service as decimal port number.\nfetchmail: x configuration invalid, specify positive port number for service or port"},
		{"poll x service -2000000000\n", "fetchmail: Cannot resolve service -20000000 to port number.\nfetchmail: Please specify the service as decimal port number.\nfetchmail: x configuration invalid, specify positive port number for service or port"},
		{"poll x port 0\n", "fetchmail: Cannot resolve service 0 to port number.\nfetchmail: Please specify the service as decimal port number.\nfetchmail: x configuration invalid, specify positive port number for service or port"},
		{"poll x service nosuchservice\n", `fetchmail: getaddrinfo(NULL, "nosuchservice") error: Servname not supported for ai_socktype`},
		{"poll x port 70000\n", "specify positive port number"},
		{"poll x proto rpop port 2000\n", "RPOP requires a privileged port"},
		{"poll x interface eth0\n", "fetchmail: missing IP interface address"},
		{"poll x interface eth0/1.2.3.400\n", "invalid IP interface address"},
	}
	for _, tc := range tests {
		if e := parseErr(t, tc.src); !strings.Contains(e, tc.want) {
			t.Errorf("%q: got %q, want %q", tc.src, e, tc.want)
		}
	}
	parseOK(t, "poll x user u lmtp smtp /var/run/lmtp h/2003\n")
	parseOK(t, "poll x user u idle folder INBOX\n")
	parseOK(t, "poll x interface eth0/192.0.2.1/255.255.255.0\n")
}

func TestQuirkPortSSLWarnings(t *testing.T) {
	_, w := parseOK(t, "poll x proto pop3 port 995\npoll y proto imap port 143 user u ssl\npoll z proto imap service imaps user u ssl\n")
	if len(w) != 2 || !strings.Contains(w[0].Msg, "you normally need --ssl for port 995") ||
		!strings.Contains(w[1].Msg, "you normally need port 993/service imaps for --ssl") {
		t.Errorf("warnings %v", w)
	}
}

func TestQuirkRelativePaths(t *testing.T) {
	cfg, _ := parseOK(t, "set idfile ids\nset pidfile /run/p\npoll x user u bsmtp out sslcert c sslkey k sslcertfile f sslcertpath d maildir Mail mbox box passwordfile pw\n")
	_, u := firstUser(t, cfg)
	for got, want := range map[string]string{
		cfg.Idfile: "/rc/dir/ids", str(cfg.Pidfile): "/run/p", str(u.BSMTP): "/rc/dir/out",
		str(u.SSLCert): "/rc/dir/c", str(u.SSLKey): "/rc/dir/k", str(u.SSLCertfile): "/rc/dir/f",
		str(u.SSLCertpath): "/rc/dir/d", str(u.Maildir): "/rc/dir/Mail", str(u.Mbox): "/rc/dir/box",
		str(u.Passwordfile): "/rc/dir/pw",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	cfg, _ = parseOK(t, "poll x\n")
	if cfg.Idfile != "/home/tester/.fetchids" || cfg.Postmaster != "tester" {
		t.Errorf("defaults: %q %q", cfg.Idfile, cfg.Postmaster)
	}
	root := testOpts
	root.Root = true
	cfg, _, _ = Parse("/x/rc", []byte("poll x\n"), root)
	if cfg.Postmaster != "postmaster" {
		t.Errorf("root postmaster %q", cfg.Postmaster)
	}
}

func TestQuirkNumbers(t *testing.T) {
	cfg, _ := parseOK(t, "poll x user u limit 99999999999 fetchlimit 4294967297 warnings -5\n")
	if _, u := firstUser(t, cfg); u.Limit != 1215752191 || u.Fetchlimit != 1 || u.Warnings != 0 {
		t.Errorf("C int conversions: %d %d %d", u.Limit, u.Fetchlimit, u.Warnings)
	}
	parseErr(t, "poll x user u limit 5x\n")
	parseErr(t, "poll x user u folder 123\n")
	cfg, _ = parseOK(t, "poll x user u folder \"123\"\n")
	if _, u := firstUser(t, cfg); u.Mailboxes[0] != "123" {
		t.Error("quoted number")
	}
}

func TestQuirkEndOfInput(t *testing.T) {
	if e := parseErr(t, "poll x user u pass"); e != "fetchmail:/rc/dir/fetchmailrc:1: syntax error at end of input" {
		t.Errorf("got %q", e)
	}
	if e := parseErr(t, "poll\n"); e != "fetchmail:/rc/dir/fetchmailrc:2: syntax error at end of input" {
		t.Errorf("got %q", e)
	}
}

func TestLogfileNotWritable(t *testing.T) {
	dir := t.TempDir()
	f := dir + "/log"
	if err := os.WriteFile(f, nil, 0o400); err != nil {
		t.Fatal(err)
	}
	if syscall.Access(f, 2) == nil {
		t.Skip("running with privileges that can write any file")
	}
	_, _, err := Parse("/rc/dir/fetchmailrc", []byte("set logfile "+f+"\n"), testOpts)
	var le *LogfileError
	if !errors.As(err, &le) || le.Path != f {
		t.Errorf("got %v", err)
	}
}

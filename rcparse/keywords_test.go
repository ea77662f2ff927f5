package rcparse

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeywords checks every keyword of fetchmail 6.4.37 (anchors §1.7) plus
// the accepted newer and extension keywords in a valid context.
func TestKeywords(t *testing.T) {
	type check func(c *Config, s *Server, u *User) bool
	tests := []struct {
		src string
		ok  check
	}{
		{"set daemon 60", func(c *Config, s *Server, u *User) bool { return c.Daemon == 60 }},
		{"set logfile /dev/null", func(c *Config, s *Server, u *User) bool { return str(c.Logfile) == "/dev/null" }},
		{"set idfile /i", func(c *Config, s *Server, u *User) bool { return c.Idfile == "/i" }},
		{"set pidfile /p", func(c *Config, s *Server, u *User) bool { return str(c.Pidfile) == "/p" }},
		{"set postmaster pm", func(c *Config, s *Server, u *User) bool { return c.Postmaster == "pm" }},
		{"set no bouncemail", func(c *Config, s *Server, u *User) bool { return !c.Bouncemail }},
		{"set spambounce", func(c *Config, s *Server, u *User) bool { return c.Spambounce }},
		{"set no softbounce", func(c *Config, s *Server, u *User) bool { return !c.Softbounce }},
		{"set syslog", func(c *Config, s *Server, u *User) bool { return c.Syslog }},
		{"set invisible", func(c *Config, s *Server, u *User) bool { return c.Invisible }},
		{"set showdots", func(c *Config, s *Server, u *User) bool { return c.Showdots }},
		{"set properties pp", func(c *Config, s *Server, u *User) bool { return str(c.Properties) == "pp" }},
		{"server h", func(c *Config, s *Server, u *User) bool { return s.Pollname == "h" && !s.Skip }},
		{"skip h", func(c *Config, s *Server, u *User) bool { return s.Skip }},
		{"poll h via v", func(c *Config, s *Server, u *User) bool { return str(s.Via) == "v" }},
		{"poll h aka a b", func(c *Config, s *Server, u *User) bool { return strings.Join(s.Aka, " ") == "a b" }},
		{"poll h local d", func(c *Config, s *Server, u *User) bool { return s.Localdomains[0] == "d" }},
		{"poll h localdomains d e", func(c *Config, s *Server, u *User) bool { return len(s.Localdomains) == 2 }},
		{"poll h proto apop", func(c *Config, s *Server, u *User) bool { return s.Protocol == "APOP" }},
		{"poll h protocol RPOP", func(c *Config, s *Server, u *User) bool { return s.Protocol == "RPOP" }},
		{"poll h proto etrn", func(c *Config, s *Server, u *User) bool { return s.Protocol == "ETRN" && len(u.Fetchdomains) == 1 }},
		{"poll h proto ODMR", func(c *Config, s *Server, u *User) bool { return s.Protocol == "ODMR" }},
		{"poll h proto pop2", func(c *Config, s *Server, u *User) bool { return s.Protocol == "unknown?!?" }},
		{"poll h service 110", func(c *Config, s *Server, u *User) bool { return str(s.Port) == "110" }},
		{"poll h service \"imaps\"", func(c *Config, s *Server, u *User) bool { return str(s.Port) == "imaps" }},
		{"poll h port 0110", func(c *Config, s *Server, u *User) bool { return str(s.Port) == "110" }},
		{"poll h interval 3", func(c *Config, s *Server, u *User) bool { return s.Interval == 3 }},
		{"poll h auth password", func(c *Config, s *Server, u *User) bool { return s.Auth == "password" }},
		{"poll h authenticate cram", func(c *Config, s *Server, u *User) bool { return s.Auth == "cram-md5" }},
		{"poll h preauth ntlm", func(c *Config, s *Server, u *User) bool { return s.Auth == "ntlm" }},
		{"poll h preauthenticate msn", func(c *Config, s *Server, u *User) bool { return s.Auth == "msn" }},
		{"poll h auth opie", func(c *Config, s *Server, u *User) bool { return s.Auth == "otp" }},
		{"poll h auth kerberos_v5", func(c *Config, s *Server, u *User) bool { return s.Auth == "kerberos_v5" }},
		{"poll h auth any", func(c *Config, s *Server, u *User) bool { return s.Auth == "any" }},
		{"poll h auth oauthbearer", func(c *Config, s *Server, u *User) bool { return s.Auth == "oauthbearer" }},
		{"poll h auth implicit password x", func(c *Config, s *Server, u *User) bool { return s.Auth == "ssh" && str(u.Password) == "x" }},
		{"poll h timeout 9", func(c *Config, s *Server, u *User) bool { return s.Timeout == 9 }},
		{"poll h envelope 1 X-To", func(c *Config, s *Server, u *User) bool { return s.Envskip == 1 }},
		{"poll h qvirtual q-", func(c *Config, s *Server, u *User) bool { return str(s.Qvirtual) == "q-" }},
		{"poll h principal p", func(c *Config, s *Server, u *User) bool { return str(s.Principal) == "p" }},
		{"poll h esmtpname n esmtppassword p", func(c *Config, s *Server, u *User) bool {
			return str(s.Esmtpname) == "n" && str(s.Esmtppassword) == "p"
		}},
		{"poll h bad-header accept", func(c *Config, s *Server, u *User) bool { return s.Badheader == "accept" }},
		{"poll h bad-header reject", func(c *Config, s *Server, u *User) bool { return s.Badheader == "reject" }},
		{"poll h interface ppp0/10.0.0.1", func(c *Config, s *Server, u *User) bool { return str(s.Interface) == "ppp0/10.0.0.1" }},
		{"poll h monitor ppp0", func(c *Config, s *Server, u *User) bool { return str(s.Monitor) == "ppp0" }},
		{"poll h plugin p plugout o", func(c *Config, s *Server, u *User) bool { return str(s.Plugin) == "p" && str(s.Plugout) == "o" }},
		{"poll h no dns uidl checkalias tracepolls", func(c *Config, s *Server, u *User) bool {
			return !s.DNS && s.UIDL && s.CheckAlias && s.Tracepolls
		}},
		{"poll h idletimeout 600 sshtunnel \"me@gw:22\"", func(c *Config, s *Server, u *User) bool {
			return s.IdleTimeout == 600 && str(s.SSHTunnel) == "me@gw:22"
		}},
		{"poll h username u there", func(c *Config, s *Server, u *User) bool { return u.Remotename == "u" }},
		{"poll h user u pass p", func(c *Config, s *Server, u *User) bool { return str(u.Password) == "p" }},
		{"poll h user u password p", func(c *Config, s *Server, u *User) bool { return str(u.Password) == "p" }},
		{"poll h user u to a b here", func(c *Config, s *Server, u *User) bool { return names(u) == "a,b" }},
		{"poll h user u folder a folders b", func(c *Config, s *Server, u *User) bool { return strings.Join(u.Mailboxes, " ") == "a b" }},
		{"poll h user u smtp a smtphost b/2525", func(c *Config, s *Server, u *User) bool { return strings.Join(u.Smtphunt, " ") == "a b/2525" }},
		{"poll h user u fetchdomains d", func(c *Config, s *Server, u *User) bool { return u.Fetchdomains[0] == "d" }},
		{"poll h user u smtpaddress a smtpname n", func(c *Config, s *Server, u *User) bool {
			return str(u.Smtpaddress) == "a" && str(u.Smtpname) == "n"
		}},
		{"poll h user u antispam 571 550 -1", func(c *Config, s *Server, u *User) bool { return len(u.Antispam) == 3 && u.Antispam[2] == -1 }},
		{"poll h user u mda m", func(c *Config, s *Server, u *User) bool { return str(u.MDA) == "m" && u.Stripcr }},
		{"poll h user u bsmtp /b", func(c *Config, s *Server, u *User) bool { return str(u.BSMTP) == "/b" }},
		{"poll h user u lmtp smtp /sock", func(c *Config, s *Server, u *User) bool { return u.LMTP }},
		{"poll h user u pre a post b", func(c *Config, s *Server, u *User) bool { return str(u.Preconnect) == "a" && str(u.Postconnect) == "b" }},
		{"poll h user u preconnect a postconnect b", func(c *Config, s *Server, u *User) bool { return str(u.Postconnect) == "b" }},
		{"poll h user u keep flush limitflush fetchall forcecr stripcr pass8 dropstatus dropdelivered mimedec idle", func(c *Config, s *Server, u *User) bool {
			return u.Keep && u.Flush && u.Limitflush && u.Fetchall && u.Forcecr && u.Stripcr && u.Pass8bits && u.Dropstatus && u.Dropdelivered && u.Mimedecode && u.Idle
		}},
		{"poll h user u no rewrite pass8bits mimedecode", func(c *Config, s *Server, u *User) bool { return !u.Rewrite && u.Pass8bits && u.Mimedecode }},
		{"poll h user u rewrite", func(c *Config, s *Server, u *User) bool { return u.Rewrite }},
		{"poll h user u ssl sslkey /k sslcert /c sslproto TLS1.2+ no sslcertck sslcertfile /f sslcertpath /d sslcommonname cn sslfingerprint \"AA:BB\"", func(c *Config, s *Server, u *User) bool {
			return u.SSL && str(u.SSLKey) == "/k" && str(u.SSLCert) == "/c" && str(u.SSLProto) == "TLS1.2+" && !u.SSLCertck &&
				str(u.SSLCertfile) == "/f" && str(u.SSLCertpath) == "/d" && str(u.SSLCommonname) == "cn" && str(u.SSLFingerprint) == "AA:BB"
		}},
		{"poll h user u sslcertck no ssl", func(c *Config, s *Server, u *User) bool { return u.SSLCertck && !u.SSL }},
		{"poll h user u limit 1 warnings 2 fetchlimit 3 fetchsizelimit 4 fastuidl 5 batchlimit 6 expunge 7", func(c *Config, s *Server, u *User) bool {
			return u.Limit == 1 && u.Warnings == 2 && u.Fetchlimit == 3 && u.Fetchsizelimit == 4 && u.Fastuidl == 5 && u.Batchlimit == 6 && u.Expunge == 7 && u.ExpungeSet
		}},
		{"poll h user u properties p", func(c *Config, s *Server, u *User) bool { return str(u.Properties) == "p" }},
		{"poll h user u forceidle passwordfd 3 tokencommand \"oauth2 get\"", func(c *Config, s *Server, u *User) bool {
			return u.Forceidle && u.Passwordfd != nil && *u.Passwordfd == 3 && str(u.Tokencommand) == "oauth2 get"
		}},
		{"poll h auth oauthbearer user u oauthprovider google oauthauthurl \"https://a/auth\" oauthdeviceurl \"https://a/dev\" oauthtokenurl \"https://a/tok\" oauthscope \"s1 s2\" oauthclientid cid oauthclientsecret csec", func(c *Config, s *Server, u *User) bool {
			return str(u.OAuthProvider) == "google" && str(u.OAuthAuthURL) == "https://a/auth" && str(u.OAuthDeviceURL) == "https://a/dev" &&
				str(u.OAuthTokenURL) == "https://a/tok" && str(u.OAuthScope) == "s1 s2" && str(u.OAuthClientID) == "cid" && str(u.OAuthClientSecret) == "csec"
		}},
		{"defaults oauthclientid cid oauthclientsecret csec poll h user u", func(c *Config, s *Server, u *User) bool {
			return str(u.OAuthClientID) == "cid" && str(u.OAuthClientSecret) == "csec"
		}},
		{"poll h user u forceidle no forceidle", func(c *Config, s *Server, u *User) bool { return !u.Forceidle }},
		{"poll h user u maildir /m", func(c *Config, s *Server, u *User) bool { return str(u.Maildir) == "/m" }},
		{"poll h user u is a mbox /b", func(c *Config, s *Server, u *User) bool { return names(u) == "a" && str(u.Mbox) == "/b" }},
		// Extension words keep their plain meaning where fetchmail reads names.
		{"poll mbox aka maildir user maildir is mbox here folder mbox", func(c *Config, s *Server, u *User) bool {
			return s.Pollname == "mbox" && s.Aka[0] == "maildir" && u.Remotename == "maildir" && names(u) == "mbox" && u.Mailboxes[0] == "mbox"
		}},
	}
	for _, tc := range tests {
		src := tc.src + "\n"
		if strings.HasPrefix(src, "set") {
			src += "poll h\n"
		}
		cfg, _ := parseOK(t, src)
		s, u := firstUser(t, cfg)
		if !tc.ok(cfg, s, u) {
			t.Errorf("%q: unexpected result %+v %+v", tc.src, s, u)
		}
	}
}

func TestLines(t *testing.T) {
	cfg, _ := parseOK(t, "# c\npoll a\n  user x\n  user y\n\npoll b keep\npoll c\n\n")
	a, b := cfg.Servers[0], cfg.Servers[1]
	if a.Line != 2 || a.Users[0].Line != 3 || a.Users[1].Line != 4 || b.Line != 6 || b.Users[0].Line != 6 || cfg.Servers[2].Users[0].Line != 7 {
		t.Errorf("lines %d %d %d %d %d", a.Line, a.Users[0].Line, a.Users[1].Line, b.Line, b.Users[0].Line)
	}
}

func TestLocalNameJSON(t *testing.T) {
	cfg, _ := parseOK(t, "poll h envelope X user u is a b=c \"\"=d * here\n")
	var buf bytes.Buffer
	if err := cfg.DumpJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(strings.Fields(buf.String()), ""), `"localnames":["a",["b","c"],["","d"],"*"]`) {
		t.Errorf("localnames JSON: %s", buf.String())
	}
}

func TestSummaryHidesPasswords(t *testing.T) {
	cfg, _ := parseOK(t, "poll h user u pass s3cr3t-pw keep\npoll g user v\n")
	var buf bytes.Buffer
	cfg.Summary(&buf)
	out := buf.String()
	if strings.Contains(out, "s3cr3t-pw") || !strings.Contains(out, "Password: *****") || !strings.Contains(out, "Password will be prompted for") {
		t.Errorf("summary:\n%s", out)
	}
}

func TestCheckPermissions(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "rc")
	if err := os.WriteFile(f, []byte("poll x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for mode, ok := range map[os.FileMode]bool{0o600: true, 0o700: true, 0o710: true, 0o640: false, 0o604: false, 0o601: false, 0o620: false} {
		if err := os.Chmod(f, mode); err != nil {
			t.Fatal(err)
		}
		err := CheckPermissions(f)
		if _, isPerm := err.(*PermissionError); ok == (err != nil) || (!ok && !isPerm) {
			t.Errorf("mode %o: %v", mode, err)
		}
	}
	for _, p := range []string{"-", "/dev/null", filepath.Join(dir, "missing")} {
		if err := CheckPermissions(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if err := CheckPermissions(dir); err == nil || !strings.Contains(err.Error(), "must be a regular file") {
		t.Errorf("directory: %v", err)
	}
}

// TestConfigdumpHidesOAuthSecret: --configdump shows the OAuth2 settings
// but never the client secret (dumps get pasted into bug reports).
func TestConfigdumpHidesOAuthSecret(t *testing.T) {
	cfg, _ := parseOK(t, "poll h auth oauthbearer user u oauthprovider microsoft oauthclientid cid oauthclientsecret VerySecretValue\n")
	var b strings.Builder
	if err := cfg.DumpJSON(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "VerySecretValue") || !strings.Contains(b.String(), `"oauthclientid": "cid"`) {
		t.Fatalf("dump:\n%s", b.String())
	}
	b.Reset()
	cfg.Summary(&b)
	if strings.Contains(b.String(), "VerySecretValue") {
		t.Fatalf("-V shows the secret:\n%s", b.String())
	}
}

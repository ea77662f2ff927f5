package doctor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/gofetchmail/gofetchmail/fetch"
	"github.com/gofetchmail/gofetchmail/rcparse"
)

// checkRC checks the rc file as a run would read it: its permissions, its
// syntax (with the parser's warnings) and the command line's overrides,
// then names the keywords gofetchmail reads differently from fetchmail.
// It returns nil after a failure (reported).
func checkRC(c Config, p *printer) *rcparse.Config {
	fail := func(st fetch.Status, detail, fix string) *rcparse.Config {
		p.line(Line{Step: "rc file", Detail: detail, Fix: fix, Status: st})
		return nil
	}
	mode := ""
	switch fi, err := os.Stat(c.RCPath); {
	case errors.Is(err, fs.ErrNotExist):
		return fail(fetch.StatusSyntax, c.RCPath+" does not exist",
			"create it (mode 0600) with a poll entry, or name another with -f (docs/migrating-from-fetchmail.md)")
	case err != nil:
		return fail(fetch.StatusIOErr, err.Error(), "make the rc file readable by you")
	default:
		mode = fmt.Sprintf("mode %04o", fi.Mode().Perm())
	}
	if err := rcparse.CheckPermissions(c.RCPath); err != nil {
		fix := "chmod 600 " + c.RCPath
		var pe *rcparse.PermissionError
		if errors.As(err, &pe) && pe.Fix != "" {
			fix = pe.Fix
		}
		return fail(fetch.StatusIOErr, err.Error(), fix)
	}
	cfg, warns, err := rcparse.ParseFile(c.RCPath, c.Parse)
	if err != nil {
		var se *rcparse.SyntaxError
		if errors.As(err, &se) {
			msg := strings.ReplaceAll(se.Error(), "\n", "; ")
			fix := "correct that line (the rc grammar: docs/migrating-from-fetchmail.md, fetchmail(1))"
			if h := se.HintText(); h != "" {
				fix = h
			}
			return fail(fetch.StatusSyntax, msg, fix)
		}
		return fail(fetch.StatusIOErr, err.Error(), "make the rc file readable by you")
	}
	p.secrets = secretsOf(cfg)
	if c.Prepare != nil {
		if err := c.Prepare(cfg); err != nil {
			return fail(fetch.StatusSyntax, err.Error(), "correct the command line")
		}
	}
	accounts := 0
	for _, s := range cfg.Servers {
		accounts += len(s.Users)
	}
	p.line(Line{Step: "rc file", OK: true, Detail: fmt.Sprintf("%s: private (%s), parsed: %d poll entries, %d accounts", c.RCPath, mode, len(cfg.Servers), accounts)})
	for _, w := range warns {
		p.line(Line{Step: "rc file", OK: true, Detail: "note: " + w.String()})
	}
	if src, err := os.ReadFile(c.RCPath); err == nil {
		for _, d := range differences(src) {
			p.line(Line{Step: "rc file", OK: true, Detail: fmt.Sprintf("note: line %d: %s (docs/migrating-from-fetchmail.md)", d.line, d.msg)})
		}
	}
	return cfg
}

// difference is a keyword at a line that gofetchmail reads differently
// from fetchmail.
type difference struct {
	line int
	msg  string
}

// pathKeywords take a path in which gofetchmail expands "~".
var pathKeywords = map[string]bool{
	"maildir": true, "mbox": true, "idfile": true, "pidfile": true, "logfile": true, "sslcertfile": true,
	"sslcertpath": true, "sslkey": true, "sslcert": true, "passwordfile": true, "bsmtp": true,
}

// extensions are keywords fetchmail 6.4 does not know.
var extensions = map[string]bool{"maildir": true, "mbox": true, "tokencommand": true, "oauthprovider": true, "oauthclientid": true}

// differences scans the rc text word by word (strings with their quotes
// kept, comments dropped) for the readings docs/migrating-from-fetchmail.md
// lists. It only informs: the parser has accepted the file.
func differences(src []byte) []difference {
	var out []difference
	words := rcWords(string(src))
	for i, w := range words {
		next := ""
		if i+1 < len(words) {
			next = words[i+1].text
		}
		lw := strings.ToLower(w.text)
		add := func(msg string) { out = append(out, difference{w.line, msg}) }
		if extensions[lw] {
			add(lw + " is a gofetchmail extension: fetchmail refuses this rc file")
		}
		switch {
		case pathKeywords[lw] && strings.HasPrefix(unquote(next), "~"):
			add(fmt.Sprintf(`%s %s: gofetchmail expands "~" to your home directory; fetchmail takes a directory named "~" beside the rc file`, lw, next))
		case lw == "preconnect" && isSSHForward(unquote(next)):
			add("the ssh -L preconnect runs as an in-process SSH channel: no ssh process, no local port, no sleep")
		case lw == "plugin" && strings.HasPrefix(strings.TrimSpace(unquote(next)), "ssh "):
			add("the ssh plugin runs in the in-process SSH client, not the ssh program")
		case lw == "checkalias":
			add("checkalias is ignored by gofetchmail")
		case lw == "sslfingerprint" && (len(strings.ReplaceAll(unquote(next), ":", "")) > 32 || strings.HasPrefix(strings.ToUpper(unquote(next)), "SHA256")):
			add("a SHA-256 sslfingerprint is a gofetchmail extension: fetchmail reads only MD5")
		case (lw == "protocol" || lw == "proto") && isUnsupportedProto(next):
			add("protocol " + next + " is not supported by gofetchmail: this entry ends with status 4")
		case lw == "auth" || lw == "authenticate":
			switch strings.ToLower(next) {
			case "gssapi", "kerberos", "kerberos_v5", "kerberos_v4", "ntlm", "msn", "otp", "opie":
				add("auth " + next + " is not supported by gofetchmail: the login fails with status 3")
			}
		}
	}
	return out
}

func isUnsupportedProto(p string) bool {
	switch strings.ToLower(p) {
	case "etrn", "odmr", "pop2", "kpop", "sdps":
		return true
	}
	return false
}

// isSSHForward reports whether a preconnect looks like the ssh -L recipe.
func isSSHForward(cmd string) bool {
	f := strings.Fields(cmd)
	if len(f) == 0 || (f[0] != "ssh" && !strings.HasSuffix(f[0], "/ssh")) {
		return false
	}
	for _, a := range f[1:] {
		if a == "-L" || strings.HasPrefix(a, "-L") {
			return true
		}
	}
	return false
}

type word struct {
	text string
	line int
}

// rcWords splits rc text into words: a quoted string is one word (quotes
// kept), "#" outside a string starts a comment, and the separators
// fetchmail ignores (",", ":", ";") end a word.
func rcWords(s string) []word {
	var out []word
	line := 1
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r' || c == ',' || c == ':' || c == ';':
			i++
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'':
			start, l := i, line
			i++
			for i < len(s) && s[i] != c {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				if s[i] == '\n' {
					line++
				}
				i++
			}
			i = min(i+1, len(s))
			out = append(out, word{s[start:i], l})
		default:
			start := i
			for i < len(s) && !strings.ContainsRune(" \t\r\n,:;#\"'", rune(s[i])) {
				i++
			}
			out = append(out, word{s[start:i], line})
		}
	}
	return out
}

func unquote(w string) string {
	if len(w) >= 2 && (w[0] == '"' || w[0] == '\'') && w[len(w)-1] == w[0] {
		return w[1 : len(w)-1]
	}
	return w
}

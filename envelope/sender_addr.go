package envelope

import "strings"

// The envelope sender is chosen by whoever wrote the message. It becomes
// the SMTP/LMTP/BSMTP MAIL FROM, the recipient (RCPT TO and To:) of a
// bounce, the mbox From line and an MDA's %F, so it must never carry a
// line break, a NUL or anything that ends the <...> of RFC 5321's
// Reverse-path early (a quoted "a> NOTIFY=NEVER"@x would add an ESMTP
// parameter to MAIL FROM). envelopeAddr turns an address as net/mail
// decodes it (local part unquoted) into RFC 5321 section 4.1.2's Mailbox:
// the local part as a Dot-string when it is one, else as a
// Quoted-string; the domain a name or an address literal. An address with
// a control character (CR, LF, NUL, TAB, DEL, ...) anywhere, or a domain
// of other characters, or longer than RFC 5321 section 4.5.3.1.3's 256
// octets, is not an address: the caller falls back to the next source (the
// From header), then to the null sender.

// maxEnvelopeAddr is RFC 5321 section 4.5.3.1.3's limit on a path.
const maxEnvelopeAddr = 256

// envelopeAddr returns addr in the form it may take in MAIL FROM, or
// false. An address without a domain is kept as a local part alone, as
// before (fetchmail hands those to the MTA to qualify).
func envelopeAddr(addr string) (string, bool) {
	if addr == "" || len(addr) > maxEnvelopeAddr {
		return "", false
	}
	for i := 0; i < len(addr); i++ {
		if c := addr[i]; c < 0x20 || c == 0x7f {
			return "", false
		}
	}
	local, domain, hasDomain := addr, "", false
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		local, domain, hasDomain = addr[:i], addr[i+1:], true
		if !validDomain(domain) {
			return "", false
		}
	}
	if local == "" {
		return "", false
	}
	if !isDotString(local) {
		local = quoteLocal(local)
	}
	if hasDomain {
		local += "@" + domain
	}
	if len(local) > maxEnvelopeAddr {
		return "", false
	}
	return local, true
}

// isAtext reports whether c is RFC 5322 section 3.2.3's atext (ASCII) or a
// byte of a UTF-8 sequence (RFC 6531's extension of it).
func isAtext(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c >= 0x80:
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// isDotString reports whether s is atoms joined by single dots.
func isDotString(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '.' && !isAtext(s[i]) {
			return false
		}
	}
	return true
}

// quoteLocal is s as an RFC 5321 Quoted-string: '"' and '\\' escaped.
func quoteLocal(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// validDomain reports whether d is a domain name (letters, digits, '-',
// '_', '.', and UTF-8 for an IDN) or an address literal ("[...]" of
// letters, digits, '.', ':').
func validDomain(d string) bool {
	if d == "" {
		return false
	}
	if d[0] == '[' {
		if len(d) < 3 || d[len(d)-1] != ']' {
			return false
		}
		for i := 1; i < len(d)-1; i++ {
			c := d[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == ':') {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(d); i++ {
		c := d[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_' || c >= 0x80) {
			return false
		}
	}
	return true
}

// Package redact removes secrets from text a server sent back: a password
// or OAuth2 token, and every form it took on the wire during a login
// (base64 of it, the whole SASL responses and their base64, IMAP's quoted
// form). The POP3 and IMAP clients and the SMTP delivery use one Set per
// connection and pass every server reply through Scrub before it reaches a
// trace, an error or a log line, so that a server that echoes a login
// (`-ERR bad AUTH PLAIN AGpvZQBwYXNz`, `NO LOGIN "joe" "pass"`) cannot put
// the secret in the log at any verbosity.
package redact

import (
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
)

// Mask replaces each secret form found in server text.
const Mask = "*****"

// minCore is the shortest base64 fragment scrubbed on its own: shorter
// fragments of a very short secret would blank innocent words.
const minCore = 4

// Set is the secrets of one connection. The zero value is empty and ready;
// a nil *Set scrubs nothing. It is safe for concurrent use.
type Set struct {
	mu    sync.RWMutex
	forms []string // longest first
}

// Secret adds a password or token: its raw form, IMAP's quoted-string form,
// its hex form, and its base64 at every alignment, as it appears alone or
// inside a longer base64 string (a SASL PLAIN or XOAUTH2 response).
func (s *Set) Secret(secret string) {
	if s == nil || secret == "" {
		return
	}
	forms := []string{secret, quoteIMAP(secret), hex.EncodeToString([]byte(secret))}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding} {
		forms = append(forms, enc.EncodeToString([]byte(secret)))
		forms = append(forms, base64Cores(enc, []byte(secret))...)
	}
	s.add(forms...)
}

// Response adds one client message of a SASL exchange (PLAIN's
// "\x00user\x00pass", XOAUTH2's and OAUTHBEARER's strings, CRAM-MD5's
// "user digest", LOGIN's password): its raw form, with NULs and ^A shown
// the ways servers echo them, and its base64 as sent.
func (s *Set) Response(resp []byte) {
	if s == nil || len(resp) == 0 {
		return
	}
	r := string(resp)
	// The raw form only for the structured responses: a bare one (LOGIN's
	// user name) is masked by Secret when it is the password.
	forms := []string{base64.StdEncoding.EncodeToString(resp), base64.RawStdEncoding.EncodeToString(resp)}
	if strings.ContainsAny(r, "\x00\x01") {
		forms = append(forms, r)
	}
	for _, sep := range []string{"\x00", "\x01"} {
		if strings.Contains(r, sep) {
			for _, shown := range []string{"", " ", "^@", "^A", `\0`, `\x00`, `\x01`, `\u0000`, `\u0001`, "?", "."} {
				forms = append(forms, strings.ReplaceAll(r, sep, shown))
			}
		}
	}
	// A CRAM-MD5 response "user digest": the digest alone too.
	if user, digest, ok := strings.Cut(r, " "); ok && user != "" && len(digest) == 32 {
		if _, err := hex.DecodeString(digest); err == nil {
			forms = append(forms, digest)
		}
	}
	s.add(forms...)
}

func (s *Set) add(forms ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range forms {
		if f != "" && !slices.Contains(s.forms, f) {
			s.forms = append(s.forms, f)
		}
	}
	slices.SortStableFunc(s.forms, func(a, b string) int { return len(b) - len(a) })
}

// Scrub returns text with every secret form replaced by Mask.
func (s *Set) Scrub(text string) string {
	if s == nil {
		return text
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, f := range s.forms {
		if strings.Contains(text, f) {
			text = strings.ReplaceAll(text, f, Mask)
		}
	}
	return text
}

// ScrubCut is Scrub for text cut short (a trace line clipped at N bytes):
// a tail that is the start of a secret form is masked too.
func (s *Set) ScrubCut(text string) string {
	text = s.Scrub(text)
	if s == nil {
		return text
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i := 0; i < len(text); i++ {
		tail := text[i:]
		for _, f := range s.forms {
			if len(tail) < len(f) && strings.HasPrefix(f, tail) {
				return text[:i] + Mask
			}
		}
	}
	return text
}

// Err returns err with its message scrubbed; errors.Is and errors.As
// still reach what it wraps. err itself when nothing needed masking.
func (s *Set) Err(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if m := s.Scrub(msg); m != msg {
		return &scrubbed{msg: m, err: err}
	}
	return err
}

type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

// Empty reports whether the set holds no secret.
func (s *Set) Empty() bool {
	if s == nil {
		return true
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.forms) == 0
}

// base64Cores returns, for each of the three byte alignments the secret can
// have inside a longer base64 stream, the characters that depend on the
// secret's bytes alone.
func base64Cores(enc *base64.Encoding, secret []byte) []string {
	var out []string
	for lead := range 3 {
		buf := append(make([]byte, lead), secret...)
		e := enc.EncodeToString(buf)
		e = strings.TrimRight(e, "=")
		// Characters 0..ceil(lead*8/6)-1 hold bits of the lead bytes.
		first := (lead*8 + 5) / 6
		// The last character holds bits of what follows unless the
		// secret ends on a 3-byte boundary.
		last := len(e)
		if len(buf)%3 != 0 {
			last--
		}
		if last-first >= minCore {
			out = append(out, e[first:last])
		}
	}
	return out
}

// quoteIMAP is the secret as an IMAP quoted string's content (RFC 3501
// section 4.3): backslash and double quote escaped.
func quoteIMAP(s string) string {
	if !strings.ContainsAny(s, `"\`) {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

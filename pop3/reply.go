package pop3

import (
	"bytes"
	"strconv"
	"strings"
)

// reply is one parsed status line.
type reply struct {
	ok   bool   // +OK
	cont bool   // "+ " SASL continuation (RFC 5034)
	code string // RFC 2449 response code of a -ERR, upper-cased
	text string
}

// parseReply parses a status line without its line ending. It is lenient
// in what follows "+OK" and "-ERR" (any case, text optional) because real
// servers vary, and strict in what they start with.
func parseReply(line []byte) (reply, error) {
	switch {
	case hasPrefixFold(line, "+OK"):
		return reply{ok: true, text: string(trimSpace(line[3:]))}, nil
	case hasPrefixFold(line, "-ERR"):
		code, text := splitCode(trimSpace(line[4:]))
		return reply{code: code, text: string(text)}, nil
	case len(line) == 1 && line[0] == '+':
		return reply{cont: true}, nil
	case len(line) >= 2 && line[0] == '+' && line[1] == ' ':
		return reply{cont: true, text: string(trimSpace(line[2:]))}, nil
	}
	return reply{}, &ProtocolError{Msg: "reply is neither +OK nor -ERR: " + quote(line)}
}

// splitCode separates a leading RFC 2449 "[CODE]" from the reply text.
// Text that starts with "[" but is not a well-formed code is left alone.
func splitCode(text []byte) (string, []byte) {
	if len(text) < 3 || text[0] != '[' {
		return "", text
	}
	end := bytes.IndexByte(text, ']')
	if end < 2 {
		return "", text
	}
	code := text[1:end]
	for _, c := range code {
		if c <= ' ' || c >= 0x7f || c == '[' {
			return "", text
		}
	}
	return strings.ToUpper(string(code)), trimSpace(text[end+1:])
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && strings.EqualFold(string(b[:len(prefix)]), prefix)
}

func trimSpace(b []byte) []byte {
	return bytes.Trim(b, " \t")
}

// quote shows at most 64 bytes of untrusted server data in an error.
func quote(b []byte) string {
	const max = 64
	if len(b) > max {
		return strconv.Quote(string(b[:max])) + "..."
	}
	return strconv.Quote(string(b))
}

// trimEOL removes a trailing LF or CRLF.
func trimEOL(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
	}
	return line
}

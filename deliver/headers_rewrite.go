package deliver

import "bytes"

// rewriteField qualifies the addresses without a domain in one address
// field (name, colon and value, folding kept): "joe" becomes
// "joe@server", "Joe <joe>" becomes "Joe <joe@server>", as fetchmail's
// "rewrite" does. Quoted strings, comments, group syntax and addresses that
// already have a domain are left alone.
func rewriteField(fl []byte, server string) []byte {
	colon := bytes.IndexByte(fl, ':')
	if colon < 0 {
		return fl
	}
	suffix := "@" + server
	out := make([]byte, 0, len(fl)+2*len(suffix))
	out = append(out, fl[:colon+1]...)

	// State of the current address (the text between delimiters).
	var (
		angle    bool // inside <...>
		sawAngle bool // the address had a <...> part
		at       bool // an '@' outside comments and quotes
		words    int  // words of the bare address
		inWord   bool
		addrEnd  = -1 // offset in out just past the bare address text
		angleAt  bool // an '@' inside the current <...>
		angleLen int  // bytes inside the current <...>
	)
	finish := func(group bool) {
		if !group && !sawAngle && !at && words == 1 && addrEnd >= 0 {
			out = append(out[:addrEnd], append([]byte(suffix), out[addrEnd:]...)...)
		}
		sawAngle, at, words, inWord, addrEnd = false, false, 0, false, -1
	}
	v := fl[colon+1:]
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '"':
			// A quoted string: copy it whole.
			j := i + 1
			for j < len(v) && v[j] != '"' {
				if v[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j, len(v)-1)
			out = append(out, v[i:j+1]...)
			if angle {
				angleLen += j + 1 - i
			} else {
				if !inWord {
					words++
					inWord = true
				}
				addrEnd = len(out)
			}
			i = j
			continue
		case c == '(':
			// A comment, possibly nested: copy it whole.
			depth, j := 0, i
			for ; j < len(v); j++ {
				switch v[j] {
				case '\\':
					j++
				case '(':
					depth++
				case ')':
					depth--
				}
				if depth == 0 {
					break
				}
			}
			j = min(j, len(v)-1)
			out = append(out, v[i:j+1]...)
			inWord = false
			i = j
			continue
		case angle && c == '>':
			if !angleAt && angleLen > 0 {
				out = append(out, suffix...)
			}
			angle = false
		case angle:
			if c == '@' {
				angleAt = true
			}
			if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
				angleLen++
			}
		case c == '<':
			angle, sawAngle, angleAt, angleLen = true, true, false, 0
		case c == ',' || c == ';':
			finish(false)
		case c == ':':
			finish(true) // a group's name
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			inWord = false
		default:
			if c == '@' {
				at = true
			}
			if !inWord {
				words++
				inWord = true
			}
			out = append(out, c)
			addrEnd = len(out)
			continue
		}
		out = append(out, c)
	}
	finish(false)
	return out
}

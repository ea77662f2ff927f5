package transport

import (
	"fmt"
	"strings"
)

// splitShellWords splits a /bin/sh command line into words, undoing single
// and double quotes and backslash escapes. It refuses anything whose meaning
// needs a shell: operators (| & ; < > ( )), expansions ($ and `), globbing
// and line breaks. The returned error wraps ErrNotSSHForward.
func splitShellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	refuse := func(what string) ([]string, error) {
		return nil, fmt.Errorf("%w: the command uses %s", ErrNotSSHForward, what)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return refuse("an unterminated quote")
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				switch s[i] {
				case '$', '`':
					return refuse("shell expansion")
				case '\\':
					if i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0 {
						i++
					}
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return refuse("an unterminated quote")
			}
			inWord = true
		case c == '\\':
			if i+1 >= len(s) || s[i+1] == '\n' {
				return refuse("a line continuation")
			}
			i++
			cur.WriteByte(s[i])
			inWord = true
		case strings.IndexByte("|&;<>()", c) >= 0:
			return refuse(fmt.Sprintf("the shell operator %q", c))
		case c == '$' || c == '`':
			return refuse("shell expansion")
		case c == '*' || c == '?':
			return refuse("a glob pattern")
		case c == '\n' || c == '\r':
			return refuse("several lines")
		case c == '#' && !inWord:
			// A comment runs to the end of the line.
			i = len(s)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

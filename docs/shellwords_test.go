package docs

import (
	"fmt"
	"strings"
)

// shellCommands splits one shell command line into its simple commands'
// argument lists, as sh would: quotes and backslashes are removed,
// commands are separated by ; & && || and |, redirections and their
// targets are dropped, and a # at the start of a word ends the line.
// Expansions ($VAR, $(...), globs) are left as they are written.
func shellCommands(line string) ([][]string, error) {
	var (
		cmds  [][]string
		cur   []string
		word  strings.Builder
		inWd  bool
		redir bool // the next word is a redirection target
	)
	endWord := func() {
		if !inWd {
			return
		}
		if redir {
			redir = false
		} else {
			cur = append(cur, word.String())
		}
		word.Reset()
		inWd = false
	}
	endCmd := func() {
		endWord()
		if len(cur) > 0 {
			cmds = append(cmds, cur)
		}
		cur = nil
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated ' in %q", line)
			}
			word.WriteString(line[i+1 : i+1+j])
			inWd = true
			i += j + 1
		case c == '"':
			inWd = true
			for i++; ; i++ {
				if i >= len(line) {
					return nil, fmt.Errorf("unterminated \" in %q", line)
				}
				if line[i] == '"' {
					break
				}
				if line[i] == '\\' && i+1 < len(line) && strings.IndexByte("\"\\$`", line[i+1]) >= 0 {
					i++
				}
				word.WriteByte(line[i])
			}
		case c == '\\' && i+1 < len(line):
			i++
			word.WriteByte(line[i])
			inWd = true
		case c == '$' && i+1 < len(line) && line[i+1] == '(':
			// Command substitution: kept as one word, not checked.
			depth := 0
			j := i
			for ; j < len(line); j++ {
				if line[j] == '(' {
					depth++
				} else if line[j] == ')' {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			if j >= len(line) {
				return nil, fmt.Errorf("unterminated $( in %q", line)
			}
			word.WriteString(line[i : j+1])
			inWd = true
			i = j
		case c == ' ' || c == '\t':
			endWord()
		case c == '#' && !inWd:
			endCmd()
			return cmds, nil
		case c == ';' || c == '|' || c == '&':
			endCmd()
			if i+1 < len(line) && line[i+1] == c {
				i++
			}
		case c == '>' || c == '<':
			// A redirection: [n]> [n]>> < ; the fd digits are part of the
			// operator, not a word.
			if inWd && strings.Trim(word.String(), "0123456789") == "" {
				word.Reset()
				inWd = false
			}
			endWord()
			for i+1 < len(line) && (line[i+1] == '>' || line[i+1] == '&') {
				i++
			}
			if line[i] == '&' {
				// >&2: the target is the fd right after.
				for i+1 < len(line) && line[i+1] >= '0' && line[i+1] <= '9' {
					i++
				}
				continue
			}
			redir = true
		default:
			word.WriteByte(c)
			inWd = true
		}
	}
	endCmd()
	if redir {
		return nil, fmt.Errorf("redirection without a target in %q", line)
	}
	return cmds, nil
}

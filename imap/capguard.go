package imap

import (
	"bytes"
	"io"
	"unicode"
)

// capGuard sits between the server and imapclient and blanks the
// parentheses in capability lists ("* CAPABILITY ...", and the response
// code "[CAPABILITY ...]" of an OK, NO, BAD, BYE or PREAUTH). go-imap
// v2.0.0-beta.8 loops forever, at full CPU and beyond any timeout (the
// loop reads nothing), on a capability list with a '(' after a space or
// right after the word CAPABILITY: its SP accepts a '(' without consuming
// it, and readCapabilities skips extra spaces with `for dec.SP() {}`. A parenthesis is never part of a
// capability (an atom), so blanking it changes no list a server can
// legitimately send. Literals ({N} at the end of a line) pass untouched.
type capGuard struct {
	r io.Reader

	skip int64  // literal bytes still to pass untouched
	head []byte // the line so far, upper-cased, until its kind is known
	kind int    // of the current line: lineUndecided, linePlain, lineCaps
	tail []byte // the line's last bytes, to find a literal's size
}

const (
	lineUndecided = iota
	linePlain
	lineCaps
)

// maxTag bounds how long a tag or a status word may be before the line is
// taken as plain.
const maxTag = 64

func newCapGuard(r io.Reader) *capGuard { return &capGuard{r: r} }

func (g *capGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	g.filter(p[:n])
	return n, err
}

// filter rewrites p in place as it streams past.
func (g *capGuard) filter(p []byte) {
	for i := 0; i < len(p); i++ {
		if g.skip > 0 {
			k := min(int64(len(p)-i), g.skip)
			g.skip -= k
			i += int(k) - 1
			continue
		}
		b := p[i]
		if b == '\n' {
			g.tail = append(g.tail, b)
			if n, ok := literalSize(g.tail); ok {
				g.skip = n
			}
			g.head, g.tail, g.kind = g.head[:0], g.tail[:0], lineUndecided
			continue
		}
		switch g.kind {
		case lineUndecided:
			g.head = append(g.head, upper(b))
			if g.kind = g.decide(); g.kind == lineCaps && (b == '(' || b == ')') {
				p[i] = ' '
			}
		case lineCaps:
			if b == '(' || b == ')' {
				p[i] = ' '
			}
		}
		g.tail = append(g.tail, b)
		if len(g.tail) > tailMax {
			g.tail = append(g.tail[:0], g.tail[len(g.tail)-tailMax/2:]...)
		}
	}
}

// decide tells the kind of the line from its start, or lineUndecided
// while the start could still be either. A capability list follows the
// tag as "CAPABILITY", or as the response code after any status word
// (go-imap reads "[CAPABILITY" whatever the word is), each ended by a
// character that is not an atom's.
func (g *capGuard) decide() int {
	sp := bytes.IndexByte(g.head, ' ')
	if sp < 0 {
		return undecidedUpTo(len(g.head))
	}
	rest := g.head[sp+1:]
	if k := matchWord(rest, "CAPABILITY"); k != linePlain {
		return k
	}
	sp = bytes.IndexByte(rest, ' ')
	if sp < 0 {
		return undecidedUpTo(len(rest))
	}
	return matchWord(rest[sp+1:], "[CAPABILITY")
}

// matchWord tells whether s starts with w followed by a character that is
// not an atom's (lineCaps), could still (lineUndecided), or cannot.
func matchWord(s []byte, w string) int {
	if len(s) <= len(w) {
		if w[:len(s)] == string(s) {
			return lineUndecided
		}
		return linePlain
	}
	if string(s[:len(w)]) == w && !atomChar(s[len(w)]) {
		return lineCaps
	}
	return linePlain
}

// undecidedUpTo keeps a line undecided while the word being read (a tag,
// a status) is short enough to be one.
func undecidedUpTo(n int) int {
	if n > maxTag {
		return linePlain
	}
	return lineUndecided
}

// atomChar is IMAP's ATOM-CHAR, as go-imap reads it.
func atomChar(b byte) bool {
	switch b {
	case '(', ')', '{', ' ', '%', '*', '"', '\\', ']':
		return false
	}
	return !unicode.IsControl(rune(b))
}

func upper(b byte) byte {
	if 'a' <= b && b <= 'z' {
		return b - 'a' + 'A'
	}
	return b
}

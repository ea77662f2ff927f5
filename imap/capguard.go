package imap

import (
	"bytes"
	"io"
)

// capGuard sits between the server and imapclient and blanks the
// parentheses in capability lists ("* CAPABILITY ...", and the response
// code "[CAPABILITY ...]" of an OK, NO, BAD, BYE or PREAUTH). go-imap
// v2.0.0-beta.8 loops forever, at full CPU and beyond any timeout (the
// loop reads nothing), on a capability list with " (" in it: its SP
// accepts a '(' without consuming it, and readCapabilities skips extra
// spaces with `for dec.SP() {}`. A parenthesis is never part of a
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

// capPrefixes are what follows the tag of a line that carries a
// capability list.
var capPrefixes = [][]byte{
	[]byte("CAPABILITY "),
	[]byte("OK [CAPABILITY "),
	[]byte("NO [CAPABILITY "),
	[]byte("BAD [CAPABILITY "),
	[]byte("BYE [CAPABILITY "),
	[]byte("PREAUTH [CAPABILITY "),
}

// maxTag bounds how long a tag may be before the line is taken as plain.
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
			g.kind = g.decide()
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
// while the start could still be either.
func (g *capGuard) decide() int {
	sp := bytes.IndexByte(g.head, ' ')
	if sp < 0 {
		if len(g.head) > maxTag {
			return linePlain
		}
		return lineUndecided
	}
	rest := g.head[sp+1:]
	still := false
	for _, c := range capPrefixes {
		if bytes.Equal(rest, c) {
			return lineCaps
		}
		if len(rest) < len(c) && bytes.HasPrefix(c, rest) {
			still = true
		}
	}
	if still {
		return lineUndecided
	}
	return linePlain
}

func upper(b byte) byte {
	if 'a' <= b && b <= 'z' {
		return b - 'a' + 'A'
	}
	return b
}

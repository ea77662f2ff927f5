package deliver

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
)

// hostileMIME is the message body: a multipart nested depth
// levels deep (each level with its own boundary), a quoted-printable part
// at the top and at the bottom, then lines "--z" that look like a
// boundary and are none. It returns the body, the body mimedecode must
// make of it, and the number of lines that start with "--".
func hostileMIME(depth, zLines int) (body, want string, dashLines int) {
	var in, out strings.Builder
	// depth 1: decoded
	in.WriteString("--b0\nContent-Transfer-Encoding: quoted-printable\n\ncaf=C3=A9\n")
	out.WriteString("--b0\nContent-Transfer-Encoding: 8bit\n\ncaf\xc3\xa9\n")
	dashLines++
	for i := 1; i < depth; i++ {
		s := fmt.Sprintf("--b%d\nContent-Type: multipart/mixed; boundary=\"b%d\"\n\n", i-1, i)
		in.WriteString(s)
		out.WriteString(s)
		dashLines++
	}
	// The innermost part: deeper than maxMIMEDepth, so passed on as it is.
	s := fmt.Sprintf("--b%d\nContent-Transfer-Encoding: quoted-printable\n\ncaf=C3=A9\n", depth-1)
	in.WriteString(s)
	out.WriteString(s)
	dashLines++
	z := strings.Repeat("--z\n", zLines)
	in.WriteString(z)
	out.WriteString(z)
	dashLines += zLines
	return in.String(), out.String(), dashLines
}

// TestMIMEDecodeHostileNesting: 40,000 nested multiparts and 400,000
// "--z" lines. Work is bounded without timing anything: the writer never
// holds more than maxMIMEDepth open boundaries, and looks a line up at
// most twice (delimiter, close delimiter) however many are open; the
// quadratic version compared each "--" line with every open boundary.
// The output is what mimedecode makes of it: the top part decoded, the
// parts nested too deep passed on unchanged.
func TestMIMEDecodeHostileNesting(t *testing.T) {
	body, want, dashLines := hostileMIME(40000, 400000)
	var out bytes.Buffer
	m := newMIMEWriter(&out, "b0")
	maxOpen := 0
	for s := body; len(s) > 0; {
		k := min(4096, len(s))
		if _, err := io.WriteString(m, s[:k]); err != nil {
			t.Fatal(err)
		}
		s = s[k:]
		maxOpen = max(maxOpen, len(m.boundaries))
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if maxOpen > maxMIMEDepth {
		t.Errorf("%d boundaries open at once, the bound is %d", maxOpen, maxMIMEDepth)
	}
	if len(m.active) != len(m.boundaries) {
		t.Errorf("%d active boundaries for %d open ones", len(m.active), len(m.boundaries))
	}
	if m.lookups > 2*dashLines {
		t.Errorf("%d boundary look-ups for %d lines starting with --, want at most 2 per line", m.lookups, dashLines)
	}
	if got := out.String(); got != want {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Errorf("output differs at byte %d: got %q, want %q", i, got[i:min(i+80, len(got))], want[i:min(i+80, len(want))])
	}
}

// TestMIMEDecodeBoundaryNesting: boundaries closed out of order, the same
// boundary nested twice, a boundary that is another's close delimiter
// ("a" and "a--"): the innermost open boundary a line can be wins, and
// closing an outer multipart closes the ones inside it (RFC 2046 section
// 5.1.2), as before the look-up became a map.
func TestMIMEDecodeBoundaryNesting(t *testing.T) {
	qp := "Content-Transfer-Encoding: quoted-printable\n\n"
	dec := "Content-Transfer-Encoding: 8bit\n\n"
	for _, tc := range []struct{ name, in, want string }{
		{"same boundary nested twice",
			"--a\nContent-Type: multipart/mixed; boundary=a\n\n--a\n" + qp + "x=3Dy\n--a--\n--a\n" + qp + "p=3Dq\n--a--\n",
			"--a\nContent-Type: multipart/mixed; boundary=a\n\n--a\n" + dec + "x=y\n--a--\n--a\n" + dec + "p=q\n--a--\n"},
		{"outer boundary closes the inner",
			"--o\nContent-Type: multipart/mixed; boundary=i\n\n--i\n" + qp + "1=3D1\n--o\n" + qp + "2=3D2\n--i\n" + qp + "3=3D3\n--o--\n",
			"--o\nContent-Type: multipart/mixed; boundary=i\n\n--i\n" + dec + "1=1\n--o\n" + dec + "2=2\n--i\n" + qp + "3=3\n--o--\n"},
		{"a close delimiter that is also a boundary",
			"--o\nContent-Type: multipart/mixed; boundary=\"o--\"\n\n--o--\n" + qp + "4=3D4\n--o----\n--o--\n",
			"--o\nContent-Type: multipart/mixed; boundary=\"o--\"\n\n--o--\n" + dec + "4=4\n--o----\n--o--\n"},
		{"transport padding", "--o \t\n" + qp + "5=3D5\n--o--  \n", "--o \t\n" + dec + "5=5\n--o--  \n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			m := newMIMEWriter(&out, "o")
			if tc.name == "same boundary nested twice" {
				m = newMIMEWriter(&out, "a")
			}
			io.WriteString(m, tc.in)
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Errorf("got\n%q\nwant\n%q", out.String(), tc.want)
			}
		})
	}
}

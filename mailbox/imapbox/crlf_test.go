package imapbox

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestCRLFReader(t *testing.T) {
	cases := map[string]string{
		"a\r\nb\r\n":       "a\nb\n",
		"a\rb\r\r\n\r":     "a\rb\r\n\r",
		"\r\n\r\n":         "\n\n",
		"no line end\r":    "no line end\r",
		"":                 "",
		"x\n\r\r\r\ny\r\n": "x\n\r\r\ny\n",
	}
	for in, want := range cases {
		for name, r := range map[string]io.Reader{"whole": strings.NewReader(in), "bytewise": iotest.OneByteReader(strings.NewReader(in))} {
			c := newCRLFReader(r)
			got, err := io.ReadAll(c)
			if err != nil || string(got) != want {
				t.Errorf("%s %q: got %q, %v; want %q", name, in, got, err, want)
			}
			// The progress report counts the octets as they came.
			if c.n != int64(len(in)) {
				t.Errorf("%s %q: counted %d octets read, want %d", name, in, c.n, len(in))
			}
			c.release()
		}
	}
}

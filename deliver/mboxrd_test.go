package deliver

import (
	"bytes"
	"regexp"
	"testing"
)

// quoteRef is the obvious line-by-line mboxrd quoting, the reference for
// the streaming fromQuoter.
var fromLineRE = regexp.MustCompile(`(?m)^(>*From )`)

func quoteRef(b []byte) []byte { return fromLineRE.ReplaceAll(b, []byte(">$1")) }

var quoteCases = []string{
	"",
	"From x\n",
	"From x",
	"From",
	">From x\n",
	">>>From x\n",
	"From: header\n\nFrom the start\n >From not at start\nFro\nFrom\n",
	">>Fr",
	">\n>>\nFrom \n",
	"xFrom y\nFromage\n>From\n>>From  z\n",
	"\n\n\nFrom \nFrom \n",
	"a>From b\n>a From\n",
}

func TestFromQuoterKnown(t *testing.T) {
	for in, want := range map[string]string{
		"From me\n":           ">From me\n",
		">From me\n":          ">>From me\n",
		"body\nFrom x\nFrom:": "body\n>From x\nFrom:",
		"From\nFromage\n":     "From\nFromage\n",
		">>Fro":               ">>Fro",
	} {
		var out bytes.Buffer
		q := newFromQuoter(&out)
		q.Write([]byte(in))
		q.Flush()
		if out.String() != want {
			t.Errorf("quote(%q) = %q, want %q", in, out.String(), want)
		}
	}
}

// TestFromQuoterSplits writes every case split at every position and byte
// by byte: the result must not depend on Write boundaries.
func TestFromQuoterSplits(t *testing.T) {
	for _, c := range quoteCases {
		in := []byte(c)
		want := quoteRef(in)
		check := func(how string, chunks [][]byte) {
			var out bytes.Buffer
			q := newFromQuoter(&out)
			for _, ch := range chunks {
				n, err := q.Write(ch)
				if err != nil || n != len(ch) {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if err := q.Flush(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("%q %s: got %q, want %q", c, how, out.Bytes(), want)
			}
			if q.n != int64(len(want)) {
				t.Errorf("%q %s: counted %d bytes, wrote %d", c, how, q.n, len(want))
			}
		}
		for i := 0; i <= len(in); i++ {
			check("split", [][]byte{in[:i], in[i:]})
		}
		var bytewise [][]byte
		for i := range in {
			bytewise = append(bytewise, in[i:i+1])
		}
		check("bytewise", bytewise)
	}
}

package rcparse

import (
	"fmt"
	"sort"
	"sync"
)

// maxHintWords is how many recent unquoted words a syntax error looks back
// at for a misspelt keyword: fetchmail's parser often fails a few tokens
// after the word that derailed it ("user joe pasword x" fails at the end).
const maxHintWords = 8

// hint looks for a misspelt keyword among the last unquoted words read,
// up to the one the parse failed at, and returns the suggestion and its
// line, or "" and 0. The earliest wins: it is the word that derailed the
// parse, and the words after it may be a password ("pasword S3cret").
func (p *parser) hint() (string, int) {
	for _, w := range p.words {
		if kw := nearestKeyword(w.text); kw != "" {
			return fmt.Sprintf("%q: did you mean %q?", w.text, kw), w.line
		}
	}
	return "", 0
}

// hintWords returns the sorted list of keywords a misspelling is compared
// with: the words of rcfile_l.l made of letters, at least 3 long. It is
// computed once, after the keyword table's init.
var hintWords = sync.OnceValue(func() []string {
	out := []string{"password"} // a keyword of lookupKeyword's

	for w := range keywords {
		if len(w) < 3 {
			continue
		}
		ok := true
		for _, c := range w {
			if (c < 'a' || c > 'z') && c != '-' {
				ok = false
			}
		}
		if ok {
			out = append(out, w)
		}
	}
	sort.Strings(out)
	return out
})

// nearestKeyword returns the keyword closest to word when it is a likely
// misspelling of it (one edit for words of up to 5 letters, two for longer
// ones, an edit being an insertion, deletion, substitution or swap of
// neighbours), else "". Ties go to the alphabetically first keyword.
func nearestKeyword(word string) string {
	if len(word) < 3 || len(word) > maxKeywordLen+2 {
		return ""
	}
	if _, ok := keywords[word]; ok {
		return ""
	}
	limit := 1
	if len(word) > 5 {
		limit = 2
	}
	best, bestD := "", limit+1
	for _, k := range hintWords() {
		if d := editDistance(word, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the optimal-string-alignment distance (Levenshtein plus
// transpositions of neighbours) between a and b.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

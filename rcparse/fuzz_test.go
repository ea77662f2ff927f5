package rcparse

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gofetchmail/gofetchmail/rcparse/rcgen"
)

// FuzzParse checks that every input either parses or gives a
// *SyntaxError: no panic, no other error. Seeds: the corpus and rcgen.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.rc"))
	for _, file := range files {
		if src, err := os.ReadFile(file); err == nil {
			f.Add(src)
		}
	}
	for seed := int64(0); seed < 20; seed++ {
		f.Add(rcgen.Generate(seed))
	}
	f.Add([]byte("poll x user \"a\\x00b\" pass 'p\x00q'\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, _, err := Parse("/fuzz/rc", src, testOpts)
		var se *SyntaxError
		switch {
		case err == nil && cfg == nil:
			t.Fatal("nil config without error")
		case err != nil && !errors.As(err, &se):
			t.Fatalf("error %v is not a *SyntaxError", err)
		case err != nil && se.Error() == "":
			t.Fatal("empty error message")
		}
	})
}

// TestGenerated parses generated files: deterministic output, no panics.
func TestGenerated(t *testing.T) {
	if string(rcgen.Generate(7)) != string(rcgen.Generate(7)) {
		t.Fatal("Generate is not deterministic")
	}
	valid := 0
	for seed := int64(0); seed < 300; seed++ {
		_, _, err := Parse("/gen/rc", rcgen.Generate(seed), testOpts)
		var se *SyntaxError
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if err == nil {
			valid++
		}
	}
	if valid < 30 || valid > 290 {
		t.Errorf("%d of 300 generated files valid; want a mix", valid)
	}
}

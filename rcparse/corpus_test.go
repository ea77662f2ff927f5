package rcparse

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const corpusDir = "../../shared/corpus/rc"

// expected is one parsed NAME.rc.expected file.
type expected struct {
	exit           int
	user, rcdir    string
	stderr, stdout string
}

func readExpected(t *testing.T, path string) expected {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	head, rest, ok := strings.Cut(string(raw), "==> stderr <==\n")
	if !ok {
		t.Fatalf("%s: no stderr section", path)
	}
	errText, out, _ := strings.Cut(rest, "==> stdout <==\n")
	var e expected
	for _, line := range strings.Split(head, "\n") {
		k, v, _ := strings.Cut(line, ": ")
		switch k {
		case "exit":
			if v != "0" {
				e.exit = 5
			}
		case "user":
			e.user = v
		case "rcdir":
			e.rcdir = v
		}
	}
	e.stderr, e.stdout = errText, out
	return e
}

// TestCorpus parses every corpus file as the corpus user in the corpus
// directory and compares exit status, stderr (with fetchmail as program
// name) and, through check-parser --convert, the JSON dump.
func TestCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.rc"))
	if len(files) == 0 {
		t.Skip("corpus not available")
	}
	_, pyErr := exec.LookPath("python3")
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			exp := readExpected(t, f+".expected")
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			cfg, warns, perr := Parse(exp.rcdir+"/"+name, src, Options{User: exp.user, Home: exp.rcdir, Prog: "fetchmail"})
			var msgs []string
			for _, w := range warns {
				msgs = append(msgs, w.String())
			}
			if perr != nil {
				var se *SyntaxError
				if !errors.As(perr, &se) {
					t.Fatalf("error %v is not a *SyntaxError", perr)
				}
				msgs = append(msgs, perr.Error())
			}
			if got, want := strings.Join(msgs, "\n"), strings.TrimRight(exp.stderr, "\n"); got != want {
				t.Errorf("stderr:\n got: %q\nwant: %q", got, want)
			}
			if (perr != nil) != (exp.exit != 0) {
				t.Fatalf("error = %v, fetchmail exit %d", perr, exp.exit)
			}
			if exp.exit != 0 {
				return
			}
			if pyErr != nil {
				t.Skip("python3 not available for check-parser --convert")
			}
			out, err := exec.Command("python3", filepath.Join(corpusDir, "check-parser"), "--convert", f+".expected").Output()
			if err != nil {
				t.Fatalf("check-parser --convert: %v", err)
			}
			var want, got map[string]any
			if err := json.Unmarshal(out, &want); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := cfg.DumpJSON(&buf); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if d := jsonDiff(want, got, ""); d != "" {
				t.Errorf("dump differs at %s\n%s", d, buf.String())
			}
		})
	}
}

// jsonDiff returns the first path where got lacks or differs from a key of
// want (extra keys in got are allowed, as in check-parser).
func jsonDiff(want, got any, path string) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return path
		}
		for k, v := range w {
			if d := jsonDiff(v, g[k], path+"."+k); d != "" {
				return d
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return path
		}
		for i := range w {
			if d := jsonDiff(w[i], g[i], path); d != "" {
				return d
			}
		}
		return ""
	}
	if !reflect.DeepEqual(want, got) {
		return path
	}
	return ""
}

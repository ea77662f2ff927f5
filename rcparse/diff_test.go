//go:build fetchmaildiff

package rcparse

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gofetchmail/gofetchmail/rcparse/rcgen"
)

var (
	diffN     = flag.Int("diff.n", 300, "number of generated rc files")
	diffSeed  = flag.Int64("diff.seed", 1, "first seed")
	diffDir   = flag.String("diff.dir", "testdata/fetchmaildiff", "compare the *.rc files of this folder too (hand-written corners)")
	diffCheck = flag.String("diff.checkparser", "../../shared/corpus/rc/check-parser", "check-parser script (converts fetchmail's configdump to JSON)")
)

// TestDifferential runs the real fetchmail --configdump (through
// check-parser --fetchmail-json) and Parse on generated files and compares
// exit status, JSON and stderr. Run with:
//
//	go test -tags fetchmaildiff -run Differential -count=1 ./rcparse -diff.n 300
//
// Every testdata/fetchmaildiff/*.rc (hand-written corners: -diff.dir) is
// compared first; -diff.n 0 compares only those.
func TestDifferential(t *testing.T) {
	if _, err := exec.LookPath("fetchmail"); err != nil {
		t.Skip("fetchmail not installed")
	}
	script, err := filepath.Abs(*diffCheck)
	if err != nil || !fileExists(script) {
		t.Skip("check-parser not found")
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	type input struct {
		name string
		src  []byte
	}
	var inputs []input
	if *diffDir != "" {
		files, err := filepath.Glob(filepath.Join(*diffDir, "*.rc"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no *.rc files in %s", *diffDir)
		}
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			inputs = append(inputs, input{f, src})
		}
	}
	for seed := *diffSeed; seed < *diffSeed+int64(*diffN); seed++ {
		inputs = append(inputs, input{fmt.Sprintf("seed %d", seed), rcgen.Generate(seed)})
	}
	failures := 0
	for _, in := range inputs {
		src := in.src
		dir := t.TempDir()
		path := filepath.Join(dir, "gen.rc")
		if err := os.WriteFile(path, src, 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("python3", script, "--fetchmail-json", path)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "HOME="+dir, "LC_ALL=C")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		fmExit := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			fmExit = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		cfg, warns, perr := Parse(path, src, Options{User: me.Username, Home: dir, Root: os.Getuid() == 0, Prog: "fetchmail"})
		var got []string
		for _, w := range warns {
			got = append(got, w.String())
		}
		ourExit := 0
		if perr != nil {
			got = append(got, perr.Error())
			ourExit = 5
		}
		var want []string
		for _, l := range strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n") {
			if l != "" && !strings.Contains(l, "Running as root is discouraged") && !strings.HasPrefix(l, "Traceback") {
				want = append(want, l)
			}
		}
		problem := ""
		switch {
		case fmExit != ourExit:
			problem = "exit status"
		case strings.Join(want, "\n") != strings.Join(got, "\n"):
			problem = "stderr"
		case fmExit == 0:
			var exp, act map[string]any
			if err := json.Unmarshal(stdout.Bytes(), &exp); err != nil {
				t.Logf("%s: cannot read fetchmail's dump: %v", in.name, err)
				continue
			}
			var buf bytes.Buffer
			if err := cfg.DumpJSON(&buf); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(buf.Bytes(), &act); err != nil {
				t.Fatal(err)
			}
			if d := jsonDiff(exp, act, ""); d != "" {
				problem = "json " + d
			}
		}
		if problem != "" {
			failures++
			t.Errorf("%s: %s differs\n--- rc file:\n%s\n--- fetchmail (exit %d):\n%s\n%s--- rcparse (exit %d):\n%s",
				in.name, problem, src, fmExit, strings.Join(want, "\n"), stdout.String(), ourExit, strings.Join(got, "\n"))
			if failures >= 5 {
				t.FailNow()
			}
		}
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

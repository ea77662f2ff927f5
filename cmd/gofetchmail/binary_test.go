package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// builtBinary builds gofetchmail once per test process with go build, as
// a user does (so Go records the VCS state in it), and returns its path.
var builtBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "gofetchmail-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "gofetchmail")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", errors.New(string(out))
	}
	return bin, nil
})

// userRun is one run of the built binary in a fresh HOME.
type userRun struct {
	code           int
	stdout, stderr string
}

// runBinary runs the built gofetchmail with args in home (HOME and the
// working directory), with no terminal, as a user's shell would.
func runBinary(t *testing.T, home string, args ...string) userRun {
	t.Helper()
	return runBinaryOut(t, home, false, args...)
}

// runBinaryOut is runBinary; with combined, standard output and error are
// one pipe (as on a terminal) and everything is in stdout, in the order
// written.
func runBinaryOut(t *testing.T, home string, combined bool, args ...string) userRun {
	t.Helper()
	bin, err := builtBinary()
	if err != nil {
		t.Fatalf("go build: %v", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = home
	cmd.Env = []string{"HOME=" + home, "FETCHMAILHOME=" + home, "PATH=/usr/local/go/bin:/usr/bin:/bin", "LANG=C"}
	var so, se strings.Builder
	cmd.Stdout, cmd.Stderr = &so, &se
	if combined {
		cmd.Stderr = &so
	}
	err = cmd.Run()
	r := userRun{stdout: so.String(), stderr: se.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	t.Logf("gofetchmail %s -> %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	return r
}

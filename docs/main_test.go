package docs

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// gofetchmailBin is the gofetchmail binary built from this checkout for the
// examples to run; "" when the build failed (buildErr says why).
var (
	gofetchmailBin string
	buildErr       error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gofetchmail-docs-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	bin := filepath.Join(dir, "gofetchmail")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/gofetchmail")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		buildErr = fmt.Errorf("go build ./cmd/gofetchmail: %w\n%s", err, out)
	} else {
		gofetchmailBin = bin
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// binary returns the built gofetchmail, failing the test if there is none.
func binary(t tb) string {
	t.Helper()
	if gofetchmailBin == "" {
		t.Fatal(buildErr)
	}
	return gofetchmailBin
}

package rigmail

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// deliver copies every message of the server Maildir into a new Maildir
// the way a retriever does: a Received header first, CRLF line ends.
func deliver(t *testing.T, server string) string {
	t.Helper()
	out := t.TempDir()
	for _, sub := range []string{"new", "cur", "tmp"} {
		if err := os.Mkdir(filepath.Join(out, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	files, err := maildirFiles(server)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		data = append([]byte("Received: from 127.0.0.1\n\tby test; Fri, 27 Nov 2026\n"), data...)
		data = bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))
		if err := os.WriteFile(filepath.Join(out, "new", fmt.Sprintf("m%d", i)), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func fill(t *testing.T, n int) (server, originals string) {
	t.Helper()
	server, originals = t.TempDir(), filepath.Join(t.TempDir(), "originals")
	// A leftover message and original must go.
	if err := os.MkdirAll(filepath.Join(server, "cur"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(server, "cur", "old:2,S"), []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Fill(server, originals, Generate(n, 1024), -1, -1); err != nil {
		t.Fatal(err)
	}
	if err := Fill(server, originals, Generate(n, 1024), -1, -1); err != nil {
		t.Fatal(err)
	}
	return server, originals
}

func TestFillThenVerify(t *testing.T) {
	server, originals := fill(t, 12)
	if n, err := Count(server); err != nil || n != 12 {
		t.Fatalf("server holds %d messages (%v), want 12", n, err)
	}
	r, err := Verify(deliver(t, server), originals)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.Verified != 12 {
		t.Fatalf("report %v, problems %q", r, r.Problems)
	}
	if got, want := r.String(), "12 messages verified, 0 missing, 0 duplicated"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
}

func TestVerifyFindsDifferences(t *testing.T) {
	server, originals := fill(t, 10)
	out := deliver(t, server)
	files, _ := maildirFiles(out)
	// files[0] goes missing, files[1] arrives twice, files[2] is damaged.
	if err := os.Remove(files[0]); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(files[1])
	if err := os.WriteFile(filepath.Join(out, "cur", "copy:2,S"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(files[2])
	data = bytes.Replace(data, []byte("MIME-Version: 1.0"), []byte("MIME-Version: 1.1"), 1)
	if err := os.WriteFile(files[2], data, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Verify(out, originals)
	if err != nil {
		t.Fatal(err)
	}
	if r.OK() || r.Verified != 8 || r.Missing != 2 || r.Duplicated != 1 || r.Unexpected != 1 {
		t.Fatalf("report %v, want 8 verified, 2 missing, 1 duplicated, 1 unexpected", r)
	}
	all := strings.Join(r.Problems, "\n")
	for _, want := range []string{"delivered 2 times", "not delivered", `got "MIME-Version: 1.1", want "MIME-Version: 1.0"`} {
		if !strings.Contains(all, want) {
			t.Errorf("problems lack %q:\n%s", want, all)
		}
	}
}

func TestVerifyWithoutOriginals(t *testing.T) {
	if _, err := Verify(t.TempDir(), t.TempDir()); err == nil {
		t.Error("Verify accepted an empty originals folder")
	}
}

func TestStripReceived(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Received: from a\n\tby b\n  for c\nSubject: x\n\nbody\n", "Subject: x\n\nbody\n"},
		{"Received: from a\nReceived: from b\nSubject: x\n", "Received: from b\nSubject: x\n"},
		{"Subject: x\nReceived: from a\n", "Subject: x\nReceived: from a\n"},
		{"Received: by a\nSubject: x\n", "Received: by a\nSubject: x\n"},
		{"Received: from a\r\n\tby b\r\nSubject: x\r\n", "Subject: x\r\n"},
	} {
		if got := string(StripReceived([]byte(tc.in))); got != tc.want {
			t.Errorf("StripReceived(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

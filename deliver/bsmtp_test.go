package deliver

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestBSMTPFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "batch")
	b, err := NewBSMTP(path, &BSMTPOptions{Address: "example.net"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := send(t, b, Envelope{From: "a@b.test", To: []string{"joe", "ann@c.test"}}, "Subject: x\n\n.dot\nend"); err != nil {
		t.Fatal(err)
	}
	// An aborted message leaves no trace.
	tx, err := b.Begin(t.Context(), Envelope{To: []string{"joe"}})
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(tx, "Subject: partial\n\nhalf")
	if err := tx.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := send(t, b, Envelope{From: "", To: []string{"joe"}}, "Subject: y\n\n.\n"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := "MAIL FROM:<a@b.test>\r\nRCPT TO:<joe@example.net>\r\nRCPT TO:<ann@c.test>\r\nDATA\r\n" +
		"Subject: x\r\n\r\n..dot\r\nend\r\n.\r\n" +
		"MAIL FROM:<>\r\nRCPT TO:<joe@example.net>\r\nDATA\r\nSubject: y\r\n\r\n..\r\n.\r\n"
	if string(got) != want {
		t.Fatalf("file:\n%q\nwant\n%q", got, want)
	}
}

func TestBSMTPStdout(t *testing.T) {
	var out bytes.Buffer
	b, err := NewBSMTP("-", &BSMTPOptions{Name: "box@x.test", Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	if err := send(t, b, Envelope{From: "s@x", To: []string{"a", "b"}}, "\nbody\n"); err != nil {
		t.Fatal(err)
	}
	want := "MAIL FROM:<s@x>\r\nRCPT TO:<box@x.test>\r\nDATA\r\n\r\nbody\r\n.\r\n"
	if out.String() != want {
		t.Fatalf("got %q want %q", out.String(), want)
	}
	if _, err := b.Begin(t.Context(), Envelope{From: "x\r\nRCPT TO:<evil>", To: []string{"a"}}); err == nil {
		t.Fatal("a sender with CRLF was accepted")
	}
}

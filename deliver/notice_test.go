package deliver

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
)

var noticeDate = time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)

// TestDSNIsAMultipartReport sends a bounce through go-smtp's server and
// reads it back with go-message: a multipart/report of three parts, the
// delivery-status part with one block per failed recipient (the enhanced
// code as Status, or the class digit's x.0.0), and the refused header.
func TestDSNIsAMultipartReport(t *testing.T) {
	m := &fakeMTA{}
	host := newFakeMTA(t, m, false)
	s, err := NewSMTP(&SMTPOptions{Hosts: []string{host}, Helo: "desk.test"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d := &DSN{
		Host:   "desk.test",
		To:     "alice@example.org",
		Reason: "General SMTP/ESMTP error.",
		Failed: []FailedRecipient{
			{Address: "joe@mx.test", Diagnostic: "550 5.1.1 no such user"},
			{Address: "ann@mx.test", Diagnostic: "554 refused"},
		},
		Header: []byte("From: alice@example.org\r\nTo: joe@mx.test\r\nSubject: hello\r\n"),
		Date:   noticeDate,
	}
	if err := SendMessage(context.Background(), s, Envelope{To: []string{d.To}}, d.Bytes()); err != nil {
		t.Fatal(err)
	}
	got := m.messages()
	if len(got) != 1 || got[0].from != "" || len(got[0].to) != 1 || got[0].to[0] != "alice@example.org" {
		t.Fatalf("the MTA got %+v, want one message from <> to alice@example.org", got)
	}
	e, err := message.Read(strings.NewReader(got[0].data))
	if err != nil {
		t.Fatal(err)
	}
	if mt, params, _ := e.Header.ContentType(); mt != "multipart/report" || params["report-type"] != "delivery-status" {
		t.Fatalf("Content-Type %q %v", mt, params)
	}
	if f := e.Header.Get("From"); f != "Mail Delivery System <MAILER-DAEMON@desk.test>" {
		t.Errorf("From %q", f)
	}
	mr := e.MultipartReader()
	var types []string
	var parts [][]byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		mt, _, _ := p.Header.ContentType()
		b, _ := io.ReadAll(p.Body)
		types = append(types, mt)
		parts = append(parts, b)
	}
	if strings.Join(types, " ") != "text/plain message/delivery-status text/rfc822-headers" {
		t.Fatalf("parts %v", types)
	}
	if !bytes.Contains(parts[0], []byte("joe@mx.test\r\n   SMTP error: 550 5.1.1 no such user")) {
		t.Errorf("human-readable part:\n%s", parts[0])
	}
	// The delivery-status body is groups of header fields (RFC 3464).
	blocks := bytes.Split(bytes.TrimSpace(parts[1]), []byte("\r\n\r\n"))
	if len(blocks) != 3 {
		t.Fatalf("%d field groups in the delivery-status part, want 3:\n%s", len(blocks), parts[1])
	}
	want := []map[string]string{
		{"Reporting-Mta": "dns; desk.test"},
		{"Final-Recipient": "rfc822; joe@mx.test", "Action": "failed", "Status": "5.1.1", "Diagnostic-Code": "smtp; 550 5.1.1 no such user"},
		{"Final-Recipient": "rfc822; ann@mx.test", "Action": "failed", "Status": "5.0.0"},
	}
	for i, blk := range blocks {
		h, err := textproto.NewReader(bufioReader(append(blk, "\r\n\r\n"...))).ReadMIMEHeader()
		if err != nil {
			t.Fatalf("group %d: %v", i, err)
		}
		for k, v := range want[i] {
			if h.Get(k) != v {
				t.Errorf("group %d: %s = %q, want %q", i, k, h.Get(k), v)
			}
		}
	}
	if !bytes.Contains(parts[2], []byte("Subject: hello\r\n")) {
		t.Errorf("header part:\n%s", parts[2])
	}
}

// TestDSNValuesStayOnOneLine: a sender address or server reply with a line
// break cannot add a header or a part to the bounce.
func TestDSNValuesStayOnOneLine(t *testing.T) {
	d := &DSN{Host: "h", To: "a@b\nBcc: victim@x", Reason: "r",
		Failed: []FailedRecipient{{Address: "x@y", Diagnostic: "550 no\r\n--b--\r\nInjected: 1"}},
		Date:   noticeDate, Boundary: "b"}
	out := string(d.Bytes())
	for _, bad := range []string{"\nBcc:", "\nInjected:", "\n--b--\n--b--"} {
		if strings.Contains(out, bad) {
			t.Errorf("the bounce contains %q:\n%s", bad, out)
		}
	}
	if strings.Count(out, "\n--b--\n") != 1 {
		t.Errorf("want exactly one closing boundary:\n%s", out)
	}
}

// TestWarningLayout: fetchmail's warning headers and signature.
func TestWarningLayout(t *testing.T) {
	w := &Warning{From: "FETCHMAIL-DAEMON@desk.test", To: "manish", Subject: "Fetchmail oversized-messages warning",
		Body: "line one\n", Date: noticeDate}
	e, err := message.Read(bytes.NewReader(w.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if e.Header.Get("Subject") != w.Subject || e.Header.Get("From") != w.From || e.Header.Get("To") != "manish" {
		t.Errorf("header %v", e.Header)
	}
	body, _ := io.ReadAll(e.Body)
	if string(body) != "line one\n-- \nThe Fetchmail Daemon\n" {
		t.Errorf("body %q", body)
	}
}

// TestSendMessageSyncsABatcher: a warning delivered into a maildir is
// durable (published in new/) when SendMessage returns.
func TestSendMessageSyncsABatcher(t *testing.T) {
	dir := t.TempDir()
	md, err := NewMaildir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer md.Close()
	w := &Warning{From: "FETCHMAIL-DAEMON@h", Subject: "s", Body: "b", Date: noticeDate}
	if err := SendMessage(context.Background(), md, Envelope{From: w.From, To: []string{"manish"}}, w.Bytes()); err != nil {
		t.Fatal(err)
	}
	if n := countNew(t, dir); n != 1 {
		t.Errorf("%d messages in new/, want 1", n)
	}
}

func countNew(t *testing.T, maildir string) int {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(maildir, "new"))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

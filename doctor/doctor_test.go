package doctor

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/fetch"
	"github.com/gofetchmail/gofetchmail/imap/imaptest"
	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
	"github.com/gofetchmail/gofetchmail/rcparse"
)

const secret = "s3cr3t-Pa55"

// run runs the doctor on rc (written to a fresh home, mode 0600) and
// returns the output and the exit status.
func run(t *testing.T, home, rc string, names ...string) (string, int) {
	t.Helper()
	path := filepath.Join(home, "fetchmailrc")
	if err := os.WriteFile(path, []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := Run(ctx, Config{
		RCPath: path,
		Parse:  rcparse.Options{Home: home, User: "manish"},
		Names:  names,
		Out:    &out,
		Select: selectAll,
		Fetch:  fetch.Options{Logger: slog.New(slog.DiscardHandler), Home: home},
	})
	if strings.Contains(out.String(), secret) {
		t.Errorf("the password is in the output:\n%s", out.String())
	}
	return out.String(), code
}

func selectAll(cfg *rcparse.Config, names []string) ([]fetch.Job, error) {
	var jobs []fetch.Job
	for _, s := range cfg.Servers {
		for _, u := range s.Users {
			jobs = append(jobs, fetch.Job{Config: cfg, Server: s, User: u})
		}
	}
	return jobs, nil
}

func newHome(t *testing.T) string {
	t.Helper()
	h := t.TempDir()
	os.Chmod(h, 0o700)
	return h
}

// recorder is a pop3test hook that records every command verb.
type recorder struct {
	mu   sync.Mutex
	cmds []string
}

func (r *recorder) hook(cmd string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	verb, _, _ := strings.Cut(cmd, " ")
	r.cmds = append(r.cmds, strings.ToUpper(verb))
	return "", false
}

func (r *recorder) has(verb string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.cmds {
		if c == verb {
			return true
		}
	}
	return false
}

func pop3Server(t *testing.T, pass string, rec *recorder, msgs ...pop3test.Message) (host, port string) {
	t.Helper()
	opts := &pop3test.ServerOptions{SASL: []string{"PLAIN", "CRAM-MD5"}}
	if rec != nil {
		opts.Hook = rec.hook
	}
	srv, err := pop3test.NewServer(pop3test.NewMailbox("msingh", pass, msgs...), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	h, p, _ := net.SplitHostPort(srv.Addr)
	return h, p
}

func wantLine(t *testing.T, out, prefix string, subs ...string) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if !strings.HasPrefix(l, prefix) {
			continue
		}
		all := true
		for _, sub := range subs {
			all = all && strings.Contains(l, sub)
		}
		if all {
			return
		}
	}
	t.Errorf("no line %q with %q in:\n%s", prefix, subs, out)
}

// TestDoctorPOP3Healthy: every step ✔, exit 0, the new count taken from
// the idfile, and nothing but read-only commands sent (no RETR, TOP, DELE).
func TestDoctorPOP3Healthy(t *testing.T) {
	rec := &recorder{}
	host, port := pop3Server(t, secret, rec,
		pop3test.Message{UID: "a", Data: []byte("Subject: 1\n\none\n")},
		pop3test.Message{UID: "b", Data: []byte("Subject: 2\n\ntwo\n")},
		pop3test.Message{UID: "c", Data: []byte("Subject: 3\n\nthree\n")})
	home := newHome(t)
	idfile := filepath.Join(home, ".fetchids")
	if err := os.WriteFile(idfile, []byte(fmt.Sprintf("msingh@%s a\n", host)), 0o600); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(idfile)
	rc := fmt.Sprintf("set idfile %q\npoll %s protocol pop3 port %s user msingh password %q sslproto '' maildir %q\n",
		idfile, host, port, secret, filepath.Join(home, "Maildir"))
	out, code := run(t, home, rc)
	if code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", code, out)
	}
	if strings.Contains(out, "✘") {
		t.Errorf("a failing line in a healthy run:\n%s", out)
	}
	wantLine(t, out, "✔ login", "SASL PLAIN CRAM-MD5")
	wantLine(t, out, "✔ login", "gofetchmail uses CRAM-MD5")
	wantLine(t, out, "✔ mailbox", "3 messages")
	wantLine(t, out, "✔ mailbox", "2 new to "+idfile, "the next poll deletes the 1 already delivered")
	wantLine(t, out, "✔ delivery", "does not exist yet")
	for _, v := range []string{"RETR", "TOP", "DELE"} {
		if rec.has(v) {
			t.Errorf("the doctor sent %s (commands: %v)", v, rec.cmds)
		}
	}
	if !rec.has("STAT") || !rec.has("UIDL") {
		t.Errorf("no STAT/UIDL (commands: %v)", rec.cmds)
	}
	if after, _ := os.ReadFile(idfile); !bytes.Equal(before, after) {
		t.Errorf("the idfile changed:\n%s\n->\n%s", before, after)
	}
	if _, err := os.Stat(filepath.Join(home, "Maildir")); err == nil {
		t.Errorf("the doctor created the maildir")
	}
}

// TestDoctorWrongPassword: the login step fails with exit 3, says what to
// check, and the output never holds the password.
func TestDoctorWrongPassword(t *testing.T) {
	host, port := pop3Server(t, "the-right-one", nil)
	home := newHome(t)
	rc := fmt.Sprintf("poll %s protocol pop3 port %s user msingh password %q sslproto '' maildir %q\n",
		host, port, secret, filepath.Join(home, "Maildir"))
	out, code := run(t, home, rc)
	if code != int(fetch.StatusAuthFail) {
		t.Fatalf("exit %d, want 3:\n%s", code, out)
	}
	wantLine(t, out, "✘ login", "next: check the user name and the password")
	if strings.Contains(out, "✔ mailbox") || strings.Contains(out, "delivery") {
		t.Errorf("steps after the failed one ran:\n%s", out)
	}
}

// TestDoctorClosedPort: the tcp step fails with exit 2; a second account
// still gets checked, and the exit status is the first failure's.
func TestDoctorClosedPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	host, port := pop3Server(t, "pw", nil)
	home := newHome(t)
	rc := fmt.Sprintf("poll 127.0.0.1 protocol pop3 port %d user msingh password pw sslproto '' maildir %q\n"+
		"poll %s protocol pop3 port %s user msingh password %q sslproto '' maildir %q\n",
		closed, filepath.Join(home, "Maildir"), host, port, secret, filepath.Join(home, "Maildir"))
	out, code := run(t, home, rc)
	if code != int(fetch.StatusSocket) {
		t.Fatalf("exit %d, want 2:\n%s", code, out)
	}
	wantLine(t, out, "✘ tcp", "connection refused")
	wantLine(t, out, "✘ login", "")
}

// TestDoctorIMAPExamine: IMAP is checked with EXAMINE (never SELECT, so
// no \Recent or \Seen changes), and the unseen messages are counted.
func TestDoctorIMAPExamine(t *testing.T) {
	var trace syncBuffer
	srv, err := imaptest.NewServer("msingh", secret, &imaptest.Options{Debug: &trace})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for i := range 2 {
		if err := srv.Append("INBOX", []byte(fmt.Sprintf("Subject: %d\r\n\r\nx\r\n", i))); err != nil {
			t.Fatal(err)
		}
	}
	host, port, _ := net.SplitHostPort(srv.Addr)
	home := newHome(t)
	rc := fmt.Sprintf("poll %s protocol imap port %s user msingh password %q sslproto '' maildir %q\n",
		host, port, secret, filepath.Join(home, "Maildir"))
	out, code := run(t, home, rc)
	if code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", code, out)
	}
	wantLine(t, out, "✔ mailbox", "folder INBOX: 2 messages, 2 new")
	tr := strings.ToUpper(trace.String())
	if !strings.Contains(tr, " EXAMINE ") || strings.Contains(tr, " SELECT ") || strings.Contains(tr, "FETCH") || strings.Contains(tr, " STORE ") {
		t.Errorf("want EXAMINE and no SELECT, FETCH or STORE; trace:\n%s", trace.String())
	}
	if _, unseen, _ := srv.Count("INBOX"); unseen != 2 {
		t.Errorf("%d unseen after the doctor, want 2", unseen)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDoctorRCFile: a readable-by-others rc file exits 6, a syntax error
// 5, a missing one 5, each with the fix.
func TestDoctorRCFile(t *testing.T) {
	home := newHome(t)
	out, code := run(t, home, "poll example.org protocol pop3 user u passwrod x\n")
	if code != int(fetch.StatusSyntax) {
		t.Fatalf("syntax error: exit %d, want 5:\n%s", code, out)
	}
	wantLine(t, out, "✘ rc file", "syntax error")

	path := filepath.Join(home, "fetchmailrc")
	os.WriteFile(path, []byte("poll example.org protocol pop3 user u password x\n"), 0o600)
	os.Chmod(path, 0o644)
	var buf bytes.Buffer
	code = Run(context.Background(), Config{RCPath: path, Parse: rcparse.Options{Home: home}, Out: &buf, Select: selectAll})
	if code != int(fetch.StatusIOErr) {
		t.Fatalf("mode 0644: exit %d, want 6:\n%s", code, buf.String())
	}
	wantLine(t, buf.String(), "✘ rc file", "next: chmod")

	buf.Reset()
	code = Run(context.Background(), Config{RCPath: filepath.Join(home, "none"), Out: &buf, Select: selectAll})
	if code != int(fetch.StatusSyntax) {
		t.Fatalf("missing: exit %d, want 5:\n%s", code, buf.String())
	}
	wantLine(t, buf.String(), "✘ rc file", "does not exist")
}

// TestDifferences names, with their lines, the keywords gofetchmail reads
// differently from fetchmail, and nothing in comments or strings.
func TestDifferences(t *testing.T) {
	src := `# maildir "~/not-this" in a comment
poll a.example protocol pop3:
  user u password "checkalias ~" maildir "~/Mail"
poll b.example protocol pop3 port 11110
  preconnect "ssh -f me@gw -L 11110:b.example:110 sleep 5"
  checkalias
poll c.example protocol etrn auth kerberos
`
	got := differences([]byte(src))
	want := []struct {
		line int
		sub  string
	}{{3, `maildir "~/Mail"`}, {3, "gofetchmail extension"}, {5, "in-process SSH channel"}, {6, "checkalias is ignored"}, {7, "protocol etrn"}, {7, "auth kerberos"}}
	for _, w := range want {
		found := false
		for _, d := range got {
			if d.line == w.line && strings.Contains(d.msg, w.sub) {
				found = true
			}
		}
		if !found {
			t.Errorf("no difference at line %d with %q; got %+v", w.line, w.sub, got)
		}
	}
	for _, d := range got {
		if d.line == 1 || strings.Contains(d.msg, "not-this") {
			t.Errorf("a comment was read: %+v", d)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d differences, want %d: %+v", len(got), len(want), got)
	}
}

// TestDoctorTLSExpiring: an STLS certificate pinned by sslfingerprint
// passes, and the line says it expires within 30 days; unpinned and
// unchecked (no sslcertck), the line gives the sslfingerprint to pin it.
func TestDoctorTLSExpiring(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mail.test"},
		DNSNames:     []string{"mail.test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(10*24*time.Hour + time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	var hx []string
	for _, b := range sum {
		hx = append(hx, fmt.Sprintf("%02X", b))
	}
	pin := "SHA256:" + strings.Join(hx, ":")
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv, err := pop3test.NewServer(pop3test.NewMailbox("msingh", secret), &pop3test.ServerOptions{TLSConfig: cfg})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	host, port, _ := net.SplitHostPort(srv.Addr)
	home := newHome(t)
	md := filepath.Join(home, "Maildir")

	out, code := run(t, home, fmt.Sprintf("poll %s protocol pop3 port %s user msingh password %q sslfingerprint %q maildir %q\n", host, port, secret, pin, md))
	if code != 0 {
		t.Fatalf("pinned: exit %d:\n%s", code, out)
	}
	wantLine(t, out, "✔ tls", "STLS (TLS 1.3), certificate for mail.test, 127.0.0.1")
	wantLine(t, out, "✔ tls", "EXPIRES in 10 days")
	wantLine(t, out, "✔ tls", "matches sslfingerprint")

	out, code = run(t, home, fmt.Sprintf("poll %s protocol pop3 port %s user msingh password %q no sslcertck maildir %q\n", host, port, secret, md))
	if code != 0 {
		t.Fatalf("unchecked: exit %d:\n%s", code, out)
	}
	wantLine(t, out, "✔ tls", "NOT checked (no sslcertck)", "it is self-signed", `sslfingerprint "`+pin+`"`)

	out, code = run(t, home, fmt.Sprintf("poll %s protocol pop3 port %s user msingh password %q sslcertck maildir %q\n", host, port, secret, md))
	if code != int(fetch.StatusSocket) {
		t.Fatalf("sslcertck: exit %d, want 2:\n%s", code, out)
	}
	wantLine(t, out, "✘ tls", "it is self-signed", `sslfingerprint "`+pin+`"`, "next: compare the fingerprint")
}

// TestDoctorAutoFallsBackToPOP3: with protocol auto, a server that does
// not greet as IMAP is checked as POP3, as a poll would use it.
func TestDoctorAutoFallsBackToPOP3(t *testing.T) {
	host, port := pop3Server(t, secret, nil, pop3test.Message{UID: "a", Data: []byte("Subject: 1\n\none\n")})
	home := newHome(t)
	rc := fmt.Sprintf("poll %s protocol auto port %s user msingh password %q sslproto '' maildir %q\n",
		host, port, secret, filepath.Join(home, "Maildir"))
	out, code := run(t, home, rc)
	if code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", code, out)
	}
	wantLine(t, out, "✔ route", "protocol auto", "POP3 then")
	wantLine(t, out, "✔ mailbox", "1 messages", "1 new")
}

// TestDoctorShellPreconnectNotRun: a shell preconnect is named, not run.
func TestDoctorShellPreconnectNotRun(t *testing.T) {
	host, port := pop3Server(t, secret, nil)
	home := newHome(t)
	marker := filepath.Join(home, "preconnect-ran")
	rc := fmt.Sprintf("poll %s protocol pop3 port %s user msingh password %q sslproto '' maildir %q preconnect \"touch %s\"\n",
		host, port, secret, filepath.Join(home, "Maildir"), marker)
	out, code := run(t, home, rc)
	if code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", code, out)
	}
	wantLine(t, out, "✔ preconnect", "touch "+marker, "not run by doctor")
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("the preconnect ran")
	}
}

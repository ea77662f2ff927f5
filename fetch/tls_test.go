package fetch

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
	"github.com/gofetchmail/gofetchmail/rcparse"
	"github.com/gofetchmail/gofetchmail/tlspolicy"
)

// testCert is a self-signed server certificate for localhost and
// 127.0.0.1, written as PEM to a temporary file.
type testCert struct {
	tls  tls.Certificate
	file string
	der  []byte
}

func newTestCert(t *testing.T) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return testCert{tls: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, file: file, der: der}
}

func (c testCert) md5() string {
	l, _ := x509.ParseCertificate(c.der)
	return tlspolicy.Fingerprint(l, false)
}

func (c testCert) sha256() string {
	l, _ := x509.ParseCertificate(c.der)
	return tlspolicy.Fingerprint(l, true)
}

// rejob replaces the entry of e by the rc text src (one poll, one user),
// keeping the Maildir target.
func (e *testEnv) rejob(t *testing.T, src string) {
	t.Helper()
	cfg, _, err := rcparse.Parse("test.rc", []byte(src), rcparse.Options{User: "tester", Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	md := *e.job.User.Maildir
	e.job = Job{Config: cfg, Server: cfg.Servers[0], User: cfg.Servers[0].Users[0]}
	e.job.User.Maildir = &md
}

// pollRC is a POP3 entry for addr with extra user options.
func pollRC(addr, extra string) string {
	host, port, _ := strings.Cut(addr, ":")
	return fmt.Sprintf("poll %s proto pop3 port %s timeout 5\n  user msingh there is manish here password foobar %s\n", host, port, extra)
}

// implicitTLS serves the fake POP3 server of e over TLS from the first
// byte on its own listener and returns that address.
func implicitTLS(t *testing.T, e *testEnv, cert testCert) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert.tls}})
	if err != nil {
		t.Fatal(err)
	}
	return serveLoopback(t, ln, e.srv.ServeConn)
}

func TestSTLSVerifiedBySSLCertfile(t *testing.T) {
	cert := newTestCert(t)
	e := newTestEnv(t, testMessages(2), &pop3test.ServerOptions{TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert.tls}}})
	e.rejob(t, pollRC(e.srv.Addr, "sslcertfile "+cert.file)) // sslcertck is on: STLS is mandatory
	res := e.poll(t)
	if res.Status != StatusSuccess || res.Delivered != 2 {
		t.Fatalf("result %+v\n%s", res, e.log)
	}
	if !strings.Contains(e.log.String(), "POP3> STLS") {
		t.Errorf("no STLS in the trace:\n%s", e.log)
	}
}

func TestSTLSRefusesUnknownCertificate(t *testing.T) {
	cert := newTestCert(t)
	e := newTestEnv(t, testMessages(2), &pop3test.ServerOptions{TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert.tls}}})
	e.rejob(t, pollRC(e.srv.Addr, "")) // system roots do not know the cert
	res := e.poll(t)
	if res.Status != StatusSocket {
		t.Fatalf("status %d, want 2: %v", res.Status, res.Err)
	}
	msg := res.Err.Error()
	for _, want := range []string{"127.0.0.1", "self-signed", `sslfingerprint "SHA256:` + cert.sha256() + `"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %q", msg, want)
		}
	}
	if strings.Contains(e.log.String(), "PASS") || len(e.mbox.Messages()) != 2 {
		t.Error("the password was sent or mail was touched")
	}
}

func TestSTLSMissingIsFatalWhenMandatory(t *testing.T) {
	e := newTestEnv(t, testMessages(1), nil)
	e.rejob(t, pollRC(e.srv.Addr, ""))
	res := e.poll(t)
	if res.Status != StatusSocket || !strings.Contains(res.Err.Error(), "sslproto ''") {
		t.Fatalf("got %d %v", res.Status, res.Err)
	}
}

func TestImplicitTLSFingerprint(t *testing.T) {
	cert := newTestCert(t)
	other := newTestCert(t)
	cases := []struct {
		extra string
		want  Status
	}{
		{`ssl sslfingerprint "` + cert.md5() + `"`, StatusSuccess},
		{`ssl sslfingerprint "` + strings.ToLower(cert.sha256()) + `"`, StatusSuccess},
		{`ssl sslfingerprint "SHA256:` + strings.ReplaceAll(cert.sha256(), ":", "") + `"`, StatusSuccess},
		{`ssl sslfingerprint "` + other.md5() + `"`, StatusSocket},
		{"ssl sslcertfile " + cert.file, StatusSuccess},
		{"ssl sslcertfile " + other.file, StatusSocket},
		{"ssl sslcertfile " + cert.file + " sslcommonname mail.example.org", StatusSocket},
		{"ssl no sslcertck", StatusSuccess},
		{"ssl sslcertfile " + cert.file + " sslproto tls1.3", StatusSuccess},
	}
	for _, c := range cases {
		e := newTestEnv(t, testMessages(1), nil)
		addr := implicitTLS(t, e, cert)
		e.rejob(t, pollRC(addr, c.extra))
		res := e.poll(t)
		if res.Status != c.want {
			t.Errorf("%s: status %d, want %d: %v", c.extra, res.Status, c.want, res.Err)
			continue
		}
		if c.want == StatusSocket && !strings.Contains(res.Err.Error(), cert.sha256()) {
			t.Errorf("%s: error does not show the fingerprint seen: %v", c.extra, res.Err)
		}
	}
}

func TestClientCertificate(t *testing.T) {
	server, client := newTestCert(t), newTestCert(t)
	keyDER, err := x509.MarshalPKCS8PrivateKey(client.tls.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(client.der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	sopts := &pop3test.ServerOptions{TLSConfig: &tls.Config{
		Certificates: []tls.Certificate{server.tls}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool,
	}}
	for _, c := range []struct {
		extra string
		want  Status
	}{
		{fmt.Sprintf("sslcertfile %s sslcert %s sslkey %s", server.file, client.file, keyFile), StatusSuccess},
		{"sslcertfile " + server.file, StatusSocket},
	} {
		e := newTestEnv(t, testMessages(1), sopts)
		e.rejob(t, pollRC(e.srv.Addr, c.extra))
		if res := e.poll(t); res.Status != c.want {
			t.Errorf("%s: status %d, want %d: %v", c.extra, res.Status, c.want, res.Err)
		}
	}
}

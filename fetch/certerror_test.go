package fetch

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// issue makes a certificate for 127.0.0.1 and localhost from tmpl, signed
// by parent (self-signed when parent is nil), and writes it as PEM.
func issue(t *testing.T, tmpl *x509.Certificate, parent *testCert) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, signKey := tmpl, any(key)
	if parent != nil {
		if signer, err = x509.ParseCertificate(parent.der); err != nil {
			t.Fatal(err)
		}
		signKey = parent.tls.PrivateKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signKey)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return testCert{tls: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, file: file, der: der}
}

func certTemplate(cn string, notBefore, notAfter time.Time, ca bool) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: notBefore, NotAfter: notAfter,
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: ca,
	}
}

// A refused certificate is one line that says what is wrong in plain
// words, shows the SHA-256 fingerprint and gives the exact sslfingerprint
// line to add; that line, added, lets the next poll through.
func TestCertErrorSaysWhatToDo(t *testing.T) {
	now := time.Now()
	self := issue(t, certTemplate("localhost", now.Add(-time.Hour), now.Add(time.Hour), false), nil)
	ca := issue(t, certTemplate("Test CA", now.Add(-time.Hour), now.Add(time.Hour), true), nil)
	byCA := issue(t, certTemplate("localhost", now.Add(-time.Hour), now.Add(time.Hour), false), &ca)
	expired := issue(t, certTemplate("localhost", now.Add(-48*time.Hour), now.Add(-24*time.Hour), false), nil)
	for _, c := range []struct {
		name   string
		cert   testCert
		extra  string
		reason string
	}{
		{"self-signed", self, "", "it is self-signed"},
		{"unknown CA", byCA, "", `it is signed by an unknown certificate authority (issuer "CN=Test CA")`},
		{"expired", expired, "sslcertfile " + expired.file, "it expired on " + expired.leaf(t).NotAfter.UTC().Format("2006-01-02")},
		{"wrong name", self, "sslcertfile " + self.file + " sslcommonname mail.example.org", "it was issued for localhost, 127.0.0.1, not for mail.example.org"},
		{"other pin", self, `sslfingerprint "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"`, "fingerprint mismatch: it is not the certificate pinned by sslfingerprint"},
	} {
		e := newTestEnv(t, testMessages(1), nil)
		addr := implicitTLS(t, e, c.cert)
		e.rejob(t, pollRC(addr, "ssl "+c.extra))
		res := e.poll(t)
		if res.Status != StatusSocket {
			t.Fatalf("%s: status %d, want 2: %v", c.name, res.Status, res.Err)
		}
		msg := res.Err.Error()
		t.Logf("%s: %s", c.name, msg)
		pin := `sslfingerprint "SHA256:` + c.cert.sha256() + `"`
		for _, want := range []string{"server certificate of 127.0.0.1 refused: " + c.reason, pin} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: the error does not say %q:\n%s", c.name, want, msg)
			}
		}
		if strings.Contains(msg, "\n") {
			t.Errorf("%s: not one line:\n%s", c.name, msg)
		}
		if c.name == "wrong name" && !strings.Contains(msg, `sslcommonname "localhost"`) {
			t.Errorf("%s: no sslcommonname alternative:\n%s", c.name, msg)
		}
		if c.name == "self-signed" && !strings.Contains(msg, `(or sslcertfile "FILE"`) {
			t.Errorf("%s: no sslcertfile alternative:\n%s", c.name, msg)
		}
		// The printed line, pasted into the rc file, is accepted.
		line := regexp.MustCompile(`sslfingerprint "[^"]+"`).FindString(msg)
		e.rejob(t, pollRC(addr, "ssl "+line))
		if res := e.poll(t); res.Err != nil || res.Delivered != 1 {
			t.Errorf("%s: with %s added: %+v", c.name, line, res)
		}
	}
}

func (c testCert) leaf(t *testing.T) *x509.Certificate {
	t.Helper()
	l, err := x509.ParseCertificate(c.der)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

package tlspolicy

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofetchmail/gofetchmail/rcparse"
)

// Config builds the TLS client configuration for a user entry whose
// server is host (via, else the poll name).
//
// Go's own chain check is switched off and done in VerifyConnection
// instead, so that one place applies fetchmail's rules: sslfingerprint (MD5,
// or SHA-256 as an extension) pins the certificate whatever sslcertck says;
// sslcertck checks the chain against sslcertfile/sslcertpath or the system
// roots and the name against sslcommonname, else via, else the poll name.
// A refusal is a *CertError naming the host, the reason and the fingerprint.
func Config(host string, u *rcparse.User) (*tls.Config, error) {
	name := host
	if u.SSLCommonname != nil && *u.SSLCommonname != "" {
		name = *u.SSLCommonname
	}
	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if u.SSLProto != nil {
		lo, hi, err := tlsVersions(*u.SSLProto)
		if err != nil {
			return nil, err
		}
		cfg.MinVersion, cfg.MaxVersion = lo, hi
	}
	roots, err := rootPool(u)
	if err != nil {
		return nil, err
	}
	var pin *fingerprint
	if u.SSLFingerprint != nil && *u.SSLFingerprint != "" {
		if pin, err = parseFingerprint(*u.SSLFingerprint); err != nil {
			return nil, err
		}
	}
	if u.SSLCert != nil && *u.SSLCert != "" {
		key := *u.SSLCert
		if u.SSLKey != nil && *u.SSLKey != "" {
			key = *u.SSLKey
		}
		cert, err := tls.LoadX509KeyPair(*u.SSLCert, key)
		if err != nil {
			return nil, fmt.Errorf("sslcert: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	check := u.SSLCertck
	cfg.InsecureSkipVerify = true // verified below, by fetchmail's rules
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		return verifyPeer(cs, host, name, roots, pin, check)
	}
	return cfg, nil
}

// tlsVersions maps fetchmail's sslproto to a version range. Unknown values
// mean auto, as in fetchmail; the floor is TLS 1.2 as in fetchmail 6.5.
func tlsVersions(proto string) (lo, hi uint16, err error) {
	switch strings.ToLower(proto) {
	case "tls1":
		return tls.VersionTLS10, tls.VersionTLS10, nil
	case "tls1+", "ssl23", "auto", "":
		return tls.VersionTLS12, 0, nil
	case "tls1.1":
		return tls.VersionTLS11, tls.VersionTLS11, nil
	case "tls1.1+":
		return tls.VersionTLS11, 0, nil
	case "tls1.2":
		return tls.VersionTLS12, tls.VersionTLS12, nil
	case "tls1.2+":
		return tls.VersionTLS12, 0, nil
	case "tls1.3", "tls1.3+":
		return tls.VersionTLS13, 0, nil
	case "ssl2", "ssl3", "ssl3+":
		return 0, 0, fmt.Errorf("sslproto %s: SSL 2 and 3 are insecure and not supported (use tls1.2+)", proto)
	}
	return tls.VersionTLS12, 0, nil
}

// rootPool returns the CA pool for sslcertfile and sslcertpath, or nil for
// the system roots. As in fetchmail, naming either replaces the system
// store unless FETCHMAIL_INCLUDE_DEFAULT_X509_CA_CERTS is set.
func rootPool(u *rcparse.User) (*x509.CertPool, error) {
	if u.SSLCertfile == nil && u.SSLCertpath == nil {
		return nil, nil
	}
	pool := x509.NewCertPool()
	if os.Getenv("FETCHMAIL_INCLUDE_DEFAULT_X509_CA_CERTS") != "" {
		if sys, err := x509.SystemCertPool(); err == nil {
			pool = sys
		}
	}
	if u.SSLCertfile != nil && *u.SSLCertfile != "" {
		pem, err := os.ReadFile(*u.SSLCertfile)
		if err != nil {
			return nil, fmt.Errorf("sslcertfile: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("sslcertfile %s: no PEM certificate in it", *u.SSLCertfile)
		}
	}
	if u.SSLCertpath != nil && *u.SSLCertpath != "" {
		files, _ := filepath.Glob(filepath.Join(*u.SSLCertpath, "*"))
		for _, f := range files {
			if pem, err := os.ReadFile(f); err == nil {
				pool.AppendCertsFromPEM(pem)
			}
		}
	}
	return pool, nil
}

// verifyPeer applies the pin, then (when check is on and no pin matched)
// the chain and name check.
func verifyPeer(cs tls.ConnectionState, host, name string, roots *x509.CertPool, pin *fingerprint, check bool) error {
	if len(cs.PeerCertificates) == 0 {
		return &CertError{Host: host, Reason: "the server sent no certificate"}
	}
	leaf := cs.PeerCertificates[0]
	if pin != nil {
		if !pin.matches(leaf) {
			return &CertError{Host: host, Reason: "fingerprint mismatch: it is not the certificate pinned by sslfingerprint (" + pin.String() + ")", Cert: leaf}
		}
		return nil // a matching pin is stronger than any chain
	}
	if !check {
		return nil // no sslcertck: fetchmail only warns
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: name})
	if err != nil {
		return &CertError{Host: host, Reason: err.Error(), Cert: leaf, Err: err}
	}
	return nil
}

// Verify says what sslcertck would say of the certificate chain in cs for
// host (name is the name it must carry: sslcommonname, else host), with
// u's sslcertfile/sslcertpath roots: nil, or a *CertError. It pins
// nothing; gofetchmail doctor uses it to tell an unchecked connection
// whether checking would pass.
func Verify(cs tls.ConnectionState, host, name string, u *rcparse.User) error {
	roots, err := rootPool(u)
	if err != nil {
		return err
	}
	return verifyPeer(cs, host, name, roots, nil, true)
}

// Handshake runs a TLS handshake bounded by the timeout and ctx.
func Handshake(ctx context.Context, tc *tls.Conn, timeout time.Duration) error {
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return tc.HandshakeContext(hctx)
}

// fingerprint is an sslfingerprint: fetchmail's MD5 form, or SHA-256 (an
// extension, told apart by its length or a "SHA256:" prefix).
type fingerprint struct {
	sha256 bool
	sum    []byte
}

// parseFingerprint accepts "AA:BB:..." in either case, with or without the
// colons, optionally prefixed "MD5:" or "SHA256:".
func parseFingerprint(s string) (*fingerprint, error) {
	t := strings.TrimSpace(s)
	if k, v, ok := strings.Cut(t, ":"); ok && len(k) > 2 {
		switch strings.ToUpper(strings.ReplaceAll(k, "-", "")) {
		case "MD5", "SHA256":
			t = v
		default:
			return nil, fmt.Errorf("sslfingerprint %q: unknown digest %s (MD5 or SHA256)", s, k)
		}
	}
	t = strings.ReplaceAll(t, ":", "")
	sum, err := hex.DecodeString(t)
	if err != nil || (len(sum) != md5.Size && len(sum) != sha256.Size) {
		return nil, fmt.Errorf("sslfingerprint %q: want 16 (MD5) or 32 (SHA-256) hex bytes like AA:BB:...", s)
	}
	return &fingerprint{sha256: len(sum) == sha256.Size, sum: sum}, nil
}

func (f *fingerprint) matches(c *x509.Certificate) bool {
	var got []byte
	if f.sha256 {
		h := sha256.Sum256(c.Raw)
		got = h[:]
	} else {
		h := md5.Sum(c.Raw)
		got = h[:]
	}
	return subtle.ConstantTimeCompare(got, f.sum) == 1
}

func (f *fingerprint) String() string {
	if f.sha256 {
		return "SHA-256 " + colonHex(f.sum)
	}
	return "MD5 " + colonHex(f.sum)
}

// Fingerprint formats a certificate digest as openssl x509 -fingerprint
// does: upper-case hex bytes joined by colons.
func Fingerprint(c *x509.Certificate, useSHA256 bool) string {
	if useSHA256 {
		h := sha256.Sum256(c.Raw)
		return colonHex(h[:])
	}
	h := md5.Sum(c.Raw)
	return colonHex(h[:])
}

func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02X", x)
	}
	return strings.Join(parts, ":")
}

// HandshakeError wraps a failed TLS handshake with host; a refused
// certificate names the host itself.
func HandshakeError(host string, err error) error {
	var ce *CertError
	if errors.As(err, &ce) {
		return err
	}
	return fmt.Errorf("TLS handshake with %s: %w", host, err)
}

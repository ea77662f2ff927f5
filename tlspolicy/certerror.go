package tlspolicy

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
)

// CertError is a server certificate refused by sslcertck or
// sslfingerprint. Its message is one line a user can act on: which host,
// what is wrong in plain words (self-signed, expired, issued for another
// name, signed by an unknown authority, not the pinned one), the
// certificate's SHA-256 fingerprint, and the exact rc line that pins it
// (sslfingerprint "SHA256:...", the form parseFingerprint reads) or the
// sslcertfile alternative.
type CertError struct {
	Host   string
	Reason string            // what is wrong, when no x509 error says it
	Cert   *x509.Certificate // the server's certificate, nil if none
	Err    error             // the x509 error, if any
}

func (e *CertError) Error() string {
	s := "server certificate of " + e.Host + " refused: " + e.what()
	if e.Cert == nil {
		return s
	}
	s += `. If it is your server's certificate (check its SHA-256 fingerprint with your provider), pin it in the entry: sslfingerprint "SHA256:` + Fingerprint(e.Cert, true) + `"`
	var he x509.HostnameError
	if names := certNames(e.Cert); errors.As(e.Err, &he) && len(names) > 0 {
		return s + fmt.Sprintf(` (or name the host it was issued for: sslcommonname %q)`, names[0])
	}
	return s + ` (or sslcertfile "FILE" with the certificate saved there as PEM)`
}

func (e *CertError) Unwrap() error { return e.Err }

// what says in plain words what is wrong with the certificate.
func (e *CertError) what() string {
	var (
		ua x509.UnknownAuthorityError
		he x509.HostnameError
		ci x509.CertificateInvalidError
	)
	c := e.Cert
	switch {
	case e.Err == nil:
		return e.Reason
	case errors.As(e.Err, &ci) && ci.Reason == x509.Expired && c != nil:
		if time.Now().Before(c.NotBefore) { // x509 says Expired for both ends
			return "it is not valid before " + c.NotBefore.UTC().Format("2006-01-02 15:04 MST")
		}
		return "it expired on " + c.NotAfter.UTC().Format("2006-01-02 15:04 MST")
	case errors.As(e.Err, &he):
		return fmt.Sprintf("it was issued for %s, not for %s", strings.Join(certNames(he.Certificate), ", "), he.Host)
	case errors.As(e.Err, &ua) && c != nil && selfSigned(c):
		return "it is self-signed"
	case errors.As(e.Err, &ua) && c != nil:
		return fmt.Sprintf("it is signed by an unknown certificate authority (issuer %q)", c.Issuer.String())
	}
	return e.Err.Error()
}

// selfSigned reports whether c is signed by its own key (whether or not
// it calls itself a CA).
func selfSigned(c *x509.Certificate) bool {
	return c.Subject.String() == c.Issuer.String() && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// certNames lists the DNS names and IP addresses a certificate is for, or
// its common name when it has neither.
// CertNames are the names a certificate is for: its DNS names, or its
// subject's common name when it has none.
func CertNames(c *x509.Certificate) []string { return certNames(c) }

func certNames(c *x509.Certificate) []string {
	if c == nil {
		return nil
	}
	names := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 && c.Subject.CommonName != "" {
		names = append(names, c.Subject.CommonName)
	}
	return names
}

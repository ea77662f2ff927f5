//go:build interop

package interop

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tlsRC polls the rig's dovecot at port with the given user options.
func tlsRC(port, extra string) string {
	return fmt.Sprintf(`defaults
user msingh is manish
no rewrite
poll 127.0.0.1 with protocol pop3 and port %s
  user msingh there is manish here password foobar %s
`, port, extra)
}

// ownPid gives the run its own pid file: as root fetchmail's default is
// the shared /var/run/fetchmail.pid, and other test runs on the machine
// would make this one exit 8.
func ownPid(h home, rc string) string {
	return fmt.Sprintf("set pidfile %q\n", filepath.Join(h.dir, "gofetchmail.pid")) + rc
}

// certFingerprints returns the MD5 and SHA-256 fingerprints of the rig's
// certificate in openssl's AA:BB:... form.
func certFingerprints(t *testing.T) (md5fp, sha256fp string) {
	t.Helper()
	data, err := os.ReadFile(rig["RIG_TLS_CERT"])
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatal("no PEM block in the rig certificate")
	}
	m := md5.Sum(block.Bytes)
	s := sha256.Sum256(block.Bytes)
	hexs := func(b []byte) string {
		var parts []string
		for _, x := range b {
			parts = append(parts, fmt.Sprintf("%02X", x))
		}
		return strings.Join(parts, ":")
	}
	return hexs(m[:]), hexs(s[:])
}

// TestPOP3SPinned fetches over dovecot's implicit-TLS port with its
// self-signed certificate trusted by sslcertfile, by its MD5 fingerprint
// (fetchmail's form) and by its SHA-256 fingerprint.
func TestPOP3SPinned(t *testing.T) {
	md5fp, sha256fp := certFingerprints(t)
	for _, tc := range []struct{ name, extra string }{
		{"sslcertfile", "ssl sslcertfile " + rig["RIG_TLS_CERT"]},
		{"md5", `ssl sslfingerprint "` + md5fp + `"`},
		{"sha256", `ssl sslfingerprint "` + sha256fp + `"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHome(t, rig["RIG_CLIENT_KEY"], true)
			fill(t, 4)
			expectExit(t, h.run(t, h.rc(t, ownPid(h, tlsRC(rig["RIG_POP3S_PORT"], tc.extra)))), 0)
			verify(t, h.maildir(), 4)
			serverHolds(t, 0)
		})
	}
}

// TestSTLSPlainPort expects the mandatory STLS (sslcertck on, no ssl) on
// dovecot's plain port, the certificate checked against sslcertfile.
func TestSTLSPlainPort(t *testing.T) {
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	fill(t, 3)
	r := h.runArgs(t, "-f", h.rc(t, ownPid(h, tlsRC(rig["RIG_POP3_PORT"], "sslcertfile "+rig["RIG_TLS_CERT"]))), "--maildir", h.maildir(), "-v")
	expectExit(t, r, 0)
	if !strings.Contains(r.stdout+r.stderr, "POP3> STLS") {
		t.Errorf("no STLS in the trace:\n%s", r)
	}
	verify(t, h.maildir(), 3)
	serverHolds(t, 0)
}

// TestWrongCertificateRefused expects dovecot's certificate to be refused
// (exit 2, mail untouched, password not sent) when nothing trusts it, when
// another fingerprint is pinned and when the name does not match; the
// message names the host, the reason and the fingerprint seen.
func TestWrongCertificateRefused(t *testing.T) {
	_, sha256fp := certFingerprints(t)
	for _, tc := range []struct{ name, port, extra, reason string }{
		{"system roots, POP3S", rig["RIG_POP3S_PORT"], "ssl", "refused: it is self-signed"},
		{"system roots, STLS", rig["RIG_POP3_PORT"], "", "refused: it is self-signed"},
		{"other pin", rig["RIG_POP3S_PORT"], `ssl sslfingerprint "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"`, "fingerprint mismatch"},
		{"wrong name", rig["RIG_POP3S_PORT"], "ssl sslcertfile " + rig["RIG_TLS_CERT"] + " sslcommonname mail.example.org", "mail.example.org"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHome(t, rig["RIG_CLIENT_KEY"], true)
			fill(t, 2)
			r := h.runArgs(t, "-f", h.rc(t, ownPid(h, tlsRC(tc.port, tc.extra))), "--maildir", h.maildir(), "-v")
			expectExit(t, r, 2)
			for _, want := range []string{"127.0.0.1", tc.reason, `sslfingerprint "SHA256:` + sha256fp + `"`} {
				if !strings.Contains(r.stdout+r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r)
				}
			}
			if strings.Contains(r.stdout+r.stderr, "POP3> PASS") || strings.Contains(r.stdout+r.stderr, "POP3> AUTH") {
				t.Errorf("credentials were sent:\n%s", r)
			}
			serverHolds(t, 2)
		})
	}
}

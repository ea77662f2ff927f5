package tlspolicy

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/gofetchmail/gofetchmail/rcparse"
)

func TestParseFingerprint(t *testing.T) {
	good := []string{
		"00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF", "00112233445566778899aabbccddeeff",
		"MD5:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF",
		"SHA256:" + strings.Repeat("ab", 32), strings.Repeat("AB:", 31) + "AB",
	}
	for _, s := range good {
		if _, err := parseFingerprint(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"", "00:11", "SHA1:" + strings.Repeat("ab", 20), "zz" + strings.Repeat("ab", 15)} {
		if _, err := parseFingerprint(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestTLSVersions(t *testing.T) {
	cases := map[string][2]uint16{
		"tls1.2+": {tls.VersionTLS12, 0}, "TLS1.3": {tls.VersionTLS13, 0}, "tls1.2": {tls.VersionTLS12, tls.VersionTLS12},
		"tls1": {tls.VersionTLS10, tls.VersionTLS10}, "auto": {tls.VersionTLS12, 0}, "whatever": {tls.VersionTLS12, 0},
	}
	for in, want := range cases {
		lo, hi, err := tlsVersions(in)
		if err != nil || lo != want[0] || hi != want[1] {
			t.Errorf("%s: %x %x %v", in, lo, hi, err)
		}
	}
	if _, _, err := tlsVersions("ssl3"); err == nil {
		t.Error("ssl3 accepted")
	}
}

func TestMustSTLSRule(t *testing.T) {
	tcp := Path{Kind: "tcp"}
	empty, tls12 := "", "tls1.2+"
	cases := []struct {
		u    rcparse.User
		want bool
	}{
		{rcparse.User{SSLCertck: true}, true},
		{rcparse.User{SSLCertck: true, SSLProto: &empty}, false},
		{rcparse.User{SSLCertck: true, SSL: true}, false},
		{rcparse.User{SSLCertck: false}, false},
		{rcparse.User{SSLCertck: false, SSLProto: &tls12}, true},
	}
	for i, c := range cases {
		if got := MustSTLS(&c.u, tcp); got != c.want {
			t.Errorf("case %d: MustSTLS = %v", i, got)
		}
	}
}

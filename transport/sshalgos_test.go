package transport

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/gofetchmail/gofetchmail/transport/sshtest"
)

// legacyRig is an SSH server that offers only SHA-1 (or CBC) algorithms
// in one category: kex, host key, MAC or cipher.
func legacyRig(t *testing.T, what string) *rig {
	t.Helper()
	return newRig(t, func(o *sshtest.ServerOptions) {
		switch what {
		case "kex":
			o.Algorithms.KeyExchanges = []string{ssh.InsecureKeyExchangeDH14SHA1}
		case "mac":
			o.Algorithms.Ciphers = []string{ssh.CipherAES128CTR}
			o.Algorithms.MACs = []string{ssh.HMACSHA1}
		case "cipher":
			o.Algorithms.Ciphers = []string{ssh.InsecureCipherAES128CBC}
		case "hostkey":
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				t.Fatal(err)
			}
			sg, err := ssh.NewSignerFromKey(k)
			if err != nil {
				t.Fatal(err)
			}
			// ssh-rsa: SHA-1 signatures only.
			o.HostKey, err = ssh.NewSignerWithAlgorithms(sg.(ssh.AlgorithmSigner), []string{ssh.KeyAlgoRSA})
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestSSHRefusesSHA1Algorithms: a server that offers only SHA-1 (or CBC)
// algorithms is refused, as OpenSSH 9's client refuses it, with one line
// naming what was offered and the ssh_config line that allows it; with that
// line in ~/.ssh/config the same server is reached.
func TestSSHRefusesSHA1Algorithms(t *testing.T) {
	cases := []struct {
		what, keyword, algo string
	}{
		{"kex", "KexAlgorithms", "diffie-hellman-group14-sha1"},
		{"mac", "MACs", "hmac-sha1"},
		{"cipher", "Ciphers", "aes128-cbc"},
		{"hostkey", "HostKeyAlgorithms", "ssh-rsa"},
	}
	for _, c := range cases {
		t.Run(c.what, func(t *testing.T) {
			r := legacyRig(t, c.what)
			r.trust(t)
			_, err := DialSSH(context.Background(), r.target(), r.opts())
			var ae *AlgorithmError
			if !errors.As(err, &ae) {
				t.Fatalf("DialSSH to a server offering only %s: err = %v, want *AlgorithmError", c.algo, err)
			}
			want := fmt.Sprintf(`"%s +%s"`, c.keyword, c.algo)
			msg := err.Error()
			if !strings.Contains(msg, want) || !strings.Contains(msg, c.algo) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line naming %s and %s", msg, c.algo, want)
			}
			cfg := fmt.Sprintf("Host 127.0.0.1\n    %s +%s\n", c.keyword, c.algo)
			writeFile(t, filepath.Join(r.home, ".ssh", "config"), []byte(cfg))
			cl, err := DialSSH(context.Background(), r.target(), r.opts())
			if err != nil {
				t.Fatalf("with %q in ~/.ssh/config: %v", strings.TrimSpace(cfg), err)
			}
			roundTrip(t, cl)
			cl.Close()
		})
	}
}

// TestSSHAlgorithmSpecs: ssh_config(5)'s +, - and ^ forms and a plain list.
func TestSSHAlgorithmSpecs(t *testing.T) {
	get := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	a, err := resolveAlgorithms("h", get(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"diffie-hellman-group14-sha1", "diffie-hellman-group1-sha1", "ssh-rsa", "hmac-sha1", "aes128-cbc", "3des-cbc"} {
		for _, l := range [][]string{a.kex, a.hostKeys, a.macs, a.ciphers, a.pubkeys} {
			if slices.Contains(l, bad) {
				t.Errorf("default lists hold %s", bad)
			}
		}
	}
	a, err = resolveAlgorithms("h", get(map[string]string{
		"KexAlgorithms":            "^diffie-hellman-group14-sha1",
		"MACs":                     "-hmac-sha2-512*",
		"Ciphers":                  "aes256-ctr,sntrup-unknown,aes128-ctr",
		"HostKeyAlgorithms":        "+ssh-rsa",
		"PubkeyAcceptedAlgorithms": "+ssh-rsa",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if a.kex[0] != "diffie-hellman-group14-sha1" || !slices.Contains(a.kex, ssh.KeyExchangeCurve25519) {
		t.Errorf("^: kex %v", a.kex)
	}
	if !slices.Equal(a.macs, []string{ssh.HMACSHA256ETM, ssh.HMACSHA256}) {
		t.Errorf("-pattern: macs %v", a.macs)
	}
	if !slices.Equal(a.ciphers, []string{"aes256-ctr", "aes128-ctr"}) {
		t.Errorf("plain list: ciphers %v", a.ciphers)
	}
	if a.hostKeys[len(a.hostKeys)-1] != "ssh-rsa" || a.pubkeys[len(a.pubkeys)-1] != "ssh-rsa" {
		t.Errorf("+: hostkeys %v pubkeys %v", a.hostKeys, a.pubkeys)
	}
	if _, err := resolveAlgorithms("h", get(map[string]string{"Ciphers": "nothing-known"})); err == nil || !strings.Contains(err.Error(), "Ciphers") {
		t.Errorf("empty list: err = %v", err)
	}
}

// TestSSHPubkeyNoSHA1: an RSA key signs with rsa-sha2-* only, unless
// PubkeyAcceptedAlgorithms adds ssh-rsa.
func TestSSHPubkeyNoSHA1(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	sg, _ := ssh.NewSignerFromKey(k)
	got := restrictSigner(sg, defaultSSHPubkeys).(ssh.MultiAlgorithmSigner).Algorithms()
	if slices.Contains(got, ssh.KeyAlgoRSA) || len(got) != 2 {
		t.Errorf("default: RSA key signs with %v", got)
	}
	got = restrictSigner(sg, append(slices.Clone(defaultSSHPubkeys), ssh.KeyAlgoRSA)).(ssh.MultiAlgorithmSigner).Algorithms()
	if !slices.Contains(got, ssh.KeyAlgoRSA) {
		t.Errorf("+ssh-rsa: RSA key signs with %v", got)
	}
}

// TestPreferredCiphers: with AES-GCM in hardware the GCM ciphers lead,
// without it OpenSSH 9's order (chacha20-poly1305 first); the same six
// ciphers either way, and this machine's choice follows its CPU.
func TestPreferredCiphers(t *testing.T) {
	hw, sw := preferredCiphers(true), preferredCiphers(false)
	if hw[0] != ssh.CipherAES128GCM || sw[0] != ssh.CipherChaCha20Poly1305 {
		t.Errorf("first cipher: hardware %s, software %s", hw[0], sw[0])
	}
	a, b := slices.Clone(hw), slices.Clone(sw)
	slices.Sort(a)
	slices.Sort(b)
	if !slices.Equal(a, b) || len(a) != 6 {
		t.Errorf("the two orders offer different ciphers: %v, %v", hw, sw)
	}
	if want := preferredCiphers(hasAESGCMHardware()); !slices.Equal(defaultSSHCiphers, want) {
		t.Errorf("default ciphers %v, want %v for this CPU", defaultSSHCiphers, want)
	}
}

package transport

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/cpu"
)

// The client's default algorithms: OpenSSH 9's client defaults (ssh_config(5)
// of OpenSSH 9.x) as far as x/crypto/ssh implements them, without anything
// that rests on SHA-1 or CBC: no diffie-hellman-group1/14-sha1 or
// group-exchange-sha1, no ssh-rsa (SHA-1) host key or public key
// signatures, no hmac-sha1, no CBC or RC4 cipher. OpenSSH 9 still lists
// hmac-sha1 last among its MACs; gofetchmail drops it too, since every server
// that offers it also offers hmac-sha2. A legacy server is reached by adding
// the old algorithm in ~/.ssh/config (KexAlgorithms +..., see sshAlgorithms).
var (
	defaultSSHKex = []string{
		ssh.KeyExchangeMLKEM768X25519, ssh.KeyExchangeCurve25519,
		ssh.KeyExchangeECDHP256, ssh.KeyExchangeECDHP384, ssh.KeyExchangeECDHP521,
		ssh.KeyExchangeDHGEXSHA256, ssh.KeyExchangeDH16SHA512, ssh.KeyExchangeDH14SHA256,
	}
	defaultSSHCiphers = preferredCiphers(hasAESGCMHardware())
	defaultSSHMACs    = []string{
		ssh.HMACSHA256ETM, ssh.HMACSHA512ETM, ssh.HMACSHA256, ssh.HMACSHA512,
	}
	defaultSSHHostKeys = []string{
		ssh.CertAlgoED25519v01, ssh.CertAlgoECDSA256v01, ssh.CertAlgoECDSA384v01, ssh.CertAlgoECDSA521v01,
		ssh.CertAlgoRSASHA512v01, ssh.CertAlgoRSASHA256v01,
		ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
		ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256,
	}
	defaultSSHPubkeys = []string{
		ssh.KeyAlgoED25519, ssh.KeyAlgoSKED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoSKECDSA256,
		ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256,
	}
)

// preferredCiphers is OpenSSH 9's cipher order, except that where the CPU
// has AES and carry-less multiplication instructions the AES-GCM ciphers
// come first, as crypto/tls orders its suites: there Go's AES-GCM runs in
// assembly, several times faster than x/crypto's chacha20-poly1305, which
// has no amd64 assembly (a 8 MB mailbox over SSH spent 30 ms of CPU in
// chacha20 alone). Both are AEAD ciphers that OpenSSH offers by default;
// the server's list decides only among what both sides allow.
func preferredCiphers(aesGCMHardware bool) []string {
	if aesGCMHardware {
		return []string{
			ssh.CipherAES128GCM, ssh.CipherAES256GCM, ssh.CipherChaCha20Poly1305,
			ssh.CipherAES128CTR, ssh.CipherAES192CTR, ssh.CipherAES256CTR,
		}
	}
	return []string{
		ssh.CipherChaCha20Poly1305, ssh.CipherAES128CTR, ssh.CipherAES192CTR, ssh.CipherAES256CTR,
		ssh.CipherAES128GCM, ssh.CipherAES256GCM,
	}
}

// hasAESGCMHardware reports whether AES-GCM runs in hardware here (the
// test crypto/tls makes: AES and PCLMULQDQ on amd64, AES and PMULL on
// arm64, the message-security assist on s390x).
func hasAESGCMHardware() bool {
	return cpu.X86.HasAES && cpu.X86.HasPCLMULQDQ ||
		cpu.ARM64.HasAES && cpu.ARM64.HasPMULL ||
		cpu.S390X.HasAES && cpu.S390X.HasAESGCM
}

// sshAlgoSetting is one ssh_config algorithm keyword: its default and every
// name x/crypto/ssh implements for it (secure and insecure).
type sshAlgoSetting struct {
	keyword string
	def     []string
	known   []string
}

func sshAlgoSettings() []sshAlgoSetting {
	sup, ins := ssh.SupportedAlgorithms(), ssh.InsecureAlgorithms()
	cat := func(a, b []string) []string { return append(slices.Clone(a), b...) }
	return []sshAlgoSetting{
		{"KexAlgorithms", defaultSSHKex, cat(sup.KeyExchanges, ins.KeyExchanges)},
		{"Ciphers", defaultSSHCiphers, cat(sup.Ciphers, ins.Ciphers)},
		{"MACs", defaultSSHMACs, cat(sup.MACs, ins.MACs)},
		{"HostKeyAlgorithms", defaultSSHHostKeys, cat(sup.HostKeys, ins.HostKeys)},
		{"PubkeyAcceptedAlgorithms", defaultSSHPubkeys, cat(sup.PublicKeyAuths, ins.PublicKeyAuths)},
	}
}

// sshAlgorithms are the algorithm lists of one connection.
type sshAlgorithms struct {
	kex, ciphers, macs, hostKeys, pubkeys []string
}

// resolveAlgorithms applies the ssh_config value of each algorithm keyword
// (get returns "" when unset) to its default, as ssh_config(5) says:
// "+list" appends to the default, "-list" removes from it (wildcards * and
// ? allowed), "^list" puts the names at its head, and a plain list replaces
// it. Names x/crypto/ssh does not implement (sntrup761x25519, umac-64, ...)
// are skipped, as are patterns matching nothing; a list left empty is an
// error naming the keyword.
func resolveAlgorithms(host string, get func(string) string) (*sshAlgorithms, error) {
	var out [5][]string
	for i, st := range sshAlgoSettings() {
		list, err := applyAlgoSpec(st, get(st.keyword))
		if err != nil {
			return nil, fmt.Errorf("ssh config for %s: %w", host, err)
		}
		out[i] = list
	}
	return &sshAlgorithms{kex: out[0], ciphers: out[1], macs: out[2], hostKeys: out[3], pubkeys: out[4]}, nil
}

func applyAlgoSpec(st sshAlgoSetting, v string) ([]string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return slices.Clone(st.def), nil
	}
	op := byte(0)
	switch v[0] {
	case '+', '-', '^':
		op, v = v[0], v[1:]
	}
	var names []string
	for _, pat := range strings.Split(v, ",") {
		pat = strings.TrimSpace(pat)
		if pat == "" {
			continue
		}
		for _, k := range st.known {
			if ok, _ := path.Match(pat, k); ok && !slices.Contains(names, k) {
				names = append(names, k)
			}
		}
	}
	var list []string
	switch op {
	case '+':
		list = slices.Clone(st.def)
		for _, n := range names {
			if !slices.Contains(list, n) {
				list = append(list, n)
			}
		}
	case '-':
		list = slices.DeleteFunc(slices.Clone(st.def), func(a string) bool { return slices.Contains(names, a) })
	case '^':
		list = slices.Clone(names)
		for _, d := range st.def {
			if !slices.Contains(list, d) {
				list = append(list, d)
			}
		}
	default:
		list = names
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%s %q leaves no algorithm this client implements", st.keyword, v)
	}
	return list, nil
}

// restrictSigner limits an RSA key's signatures to the accepted public key
// algorithms (by default rsa-sha2-512 and rsa-sha2-256, never SHA-1
// ssh-rsa unless PubkeyAcceptedAlgorithms adds it). Other keys are returned
// as they are; nil when the key's only algorithms are not accepted.
func restrictSigner(sg ssh.Signer, accepted []string) ssh.Signer {
	typ := sg.PublicKey().Type()
	if typ != ssh.KeyAlgoRSA && typ != ssh.CertAlgoRSAv01 {
		if slices.Contains(accepted, underlyingKeyAlgo(typ)) {
			return sg
		}
		return nil
	}
	as, ok := sg.(ssh.AlgorithmSigner)
	if !ok {
		if slices.Contains(accepted, ssh.KeyAlgoRSA) {
			return sg
		}
		return nil
	}
	var algos []string
	for _, a := range []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA} {
		if slices.Contains(accepted, a) {
			algos = append(algos, a)
		}
	}
	if len(algos) == 0 {
		return nil
	}
	r, err := ssh.NewSignerWithAlgorithms(as, algos)
	if err != nil {
		return nil
	}
	return r
}

// underlyingKeyAlgo maps a certificate algorithm to its key algorithm.
func underlyingKeyAlgo(a string) string {
	switch a {
	case ssh.CertAlgoED25519v01:
		return ssh.KeyAlgoED25519
	case ssh.CertAlgoECDSA256v01:
		return ssh.KeyAlgoECDSA256
	case ssh.CertAlgoECDSA384v01:
		return ssh.KeyAlgoECDSA384
	case ssh.CertAlgoECDSA521v01:
		return ssh.KeyAlgoECDSA521
	case ssh.CertAlgoSKED25519v01:
		return ssh.KeyAlgoSKED25519
	case ssh.CertAlgoSKECDSA256v01:
		return ssh.KeyAlgoSKECDSA256
	}
	return a
}

// AlgorithmError is a handshake that failed because the server offers only
// algorithms the client does not use by default (SHA-1, CBC, ...). Its
// message is one line: what the server offered and the ssh_config line
// that allows it.
type AlgorithmError struct {
	Host    string   // the SSH host as given (the ssh_config Host to use)
	Addr    string   // host:port dialled
	What    string   // "key exchange", "host key", "client to server MAC", ...
	Keyword string   // the ssh_config keyword: KexAlgorithms, HostKeyAlgorithms, MACs, Ciphers
	Offered []string // what the server offered
	Enable  string   // the first offered algorithm the client implements, "" if none
	Err     error
}

func (e *AlgorithmError) Error() string {
	s := fmt.Sprintf("ssh: %s offers only %s algorithms %s, none of which gofetchmail uses by default (like OpenSSH 9)",
		e.Addr, e.What, strings.Join(e.Offered, ","))
	if e.Enable != "" {
		return s + fmt.Sprintf("; to allow it for this legacy server, add to ~/.ssh/config: \"Host %s\" then \"%s +%s\"", e.Host, e.Keyword, e.Enable)
	}
	return s + "; the client implements none of them"
}

func (e *AlgorithmError) Unwrap() error { return e.Err }

// algorithmError turns x/crypto/ssh's negotiation failure into an
// *AlgorithmError, or returns nil when err is not one.
func algorithmError(err error, host, addr string) error {
	var ne *ssh.AlgorithmNegotiationError
	if !errors.As(err, &ne) {
		return nil
	}
	e := &AlgorithmError{Host: host, Addr: addr, What: ne.What, Offered: ne.RequestedAlgorithms, Err: err}
	w := strings.ToLower(ne.What)
	switch {
	case strings.Contains(w, "key exchange"):
		e.Keyword = "KexAlgorithms"
	case strings.Contains(w, "host key"):
		e.Keyword = "HostKeyAlgorithms"
	case strings.Contains(w, "mac"):
		e.Keyword = "MACs"
	case strings.Contains(w, "cipher"):
		e.Keyword = "Ciphers"
	default:
		return nil
	}
	for _, st := range sshAlgoSettings() {
		if st.keyword != e.Keyword {
			continue
		}
		for _, o := range ne.RequestedAlgorithms {
			if slices.Contains(st.known, o) {
				e.Enable = o
				break
			}
		}
	}
	return e
}

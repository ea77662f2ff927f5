package transport

import (
	"io"

	"golang.org/x/crypto/ssh"
)

// Which identity logged in: for "gofetchmail doctor", which says which key
// (of the agent or of which file) or which method the SSH server accepted.
// x/crypto/ssh asks a signer to sign only after the server accepted its
// public key (RFC 4252 section 7: the query without signature comes
// first), and stops at the first method that succeeds, so the identity
// recorded last before a successful handshake is the one that logged in.

// source remembers that sg was read from file.
func (a *authSetup) source(sg ssh.Signer, file string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sources == nil {
		a.sources = map[string]string{}
	}
	if k := sg.PublicKey(); k != nil {
		a.sources[string(k.Marshal())] = file
	}
}

// sourceOf is the file sg was read from.
func (a *authSetup) sourceOf(sg ssh.Signer) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if k := sg.PublicKey(); k != nil {
		return a.sources[string(k.Marshal())]
	}
	return ""
}

func (a *authSetup) setIdentity(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.identity = id
}

func (a *authSetup) lastIdentity() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.identity
}

// recording wraps sg so that signing records it as the identity in use,
// keeping the algorithm interfaces sg has (x/crypto/ssh picks the RSA
// signature algorithm through them).
func (a *authSetup) recording(sg ssh.Signer, origin string) ssh.Signer {
	id := sg.PublicKey().Type() + " key " + ssh.FingerprintSHA256(sg.PublicKey())
	if origin != "" {
		id += " (" + origin + ")"
	}
	r := recorder{a: a, id: id}
	switch s := sg.(type) {
	case ssh.MultiAlgorithmSigner:
		return &recMulti{MultiAlgorithmSigner: s, recorder: r}
	case ssh.AlgorithmSigner:
		return &recAlgo{AlgorithmSigner: s, recorder: r}
	}
	return &recSigner{Signer: sg, recorder: r}
}

type recorder struct {
	a  *authSetup
	id string
}

type recSigner struct {
	ssh.Signer
	recorder
}

func (s *recSigner) Sign(rand io.Reader, data []byte) (*ssh.Signature, error) {
	s.a.setIdentity(s.id)
	return s.Signer.Sign(rand, data)
}

type recAlgo struct {
	ssh.AlgorithmSigner
	recorder
}

func (s *recAlgo) Sign(rand io.Reader, data []byte) (*ssh.Signature, error) {
	s.a.setIdentity(s.id)
	return s.AlgorithmSigner.Sign(rand, data)
}

func (s *recAlgo) SignWithAlgorithm(rand io.Reader, data []byte, algorithm string) (*ssh.Signature, error) {
	s.a.setIdentity(s.id)
	return s.AlgorithmSigner.SignWithAlgorithm(rand, data, algorithm)
}

type recMulti struct {
	ssh.MultiAlgorithmSigner
	recorder
}

func (s *recMulti) Sign(rand io.Reader, data []byte) (*ssh.Signature, error) {
	s.a.setIdentity(s.id)
	return s.MultiAlgorithmSigner.Sign(rand, data)
}

func (s *recMulti) SignWithAlgorithm(rand io.Reader, data []byte, algorithm string) (*ssh.Signature, error) {
	s.a.setIdentity(s.id)
	return s.MultiAlgorithmSigner.SignWithAlgorithm(rand, data, algorithm)
}

// Identity says what the SSH server accepted when c logged in: "TYPE key
// SHA256:... (FILE or ssh-agent)", "password" or "keyboard-interactive";
// "" when nothing was asked (the server let the user in with "none").
func (c *SSHClient) Identity() string { return c.identity }

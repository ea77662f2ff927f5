package transport

import (
	"crypto/rand"
	"crypto/rsa"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// TestRecordingKeepsAlgorithms: the signer that records the identity keeps
// the RSA key's restricted algorithm list (x/crypto/ssh negotiates
// rsa-sha2-* through it), and signing records which key and file.
func TestRecordingKeepsAlgorithms(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	sg, err := ssh.NewSignerFromKey(k)
	if err != nil {
		t.Fatal(err)
	}
	a := &authSetup{}
	restricted := restrictSigner(sg, defaultSSHPubkeys)
	rec := a.recording(restricted, "/home/u/.ssh/id_rsa")
	m, ok := rec.(ssh.MultiAlgorithmSigner)
	if !ok {
		t.Fatalf("the recording signer of an RSA key is a %T, not a MultiAlgorithmSigner", rec)
	}
	if want := restricted.(ssh.MultiAlgorithmSigner).Algorithms(); !slices.Equal(m.Algorithms(), want) {
		t.Errorf("algorithms %v, want %v", m.Algorithms(), want)
	}
	if a.lastIdentity() != "" {
		t.Errorf("an identity before any signature: %q", a.lastIdentity())
	}
	if _, err := m.SignWithAlgorithm(rand.Reader, []byte("x"), ssh.KeyAlgoRSASHA256); err != nil {
		t.Fatal(err)
	}
	if id := a.lastIdentity(); !strings.HasPrefix(id, "ssh-rsa key SHA256:") || !strings.HasSuffix(id, "(/home/u/.ssh/id_rsa)") {
		t.Errorf("identity %q", id)
	}
}

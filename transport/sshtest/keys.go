package sshtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"

	"golang.org/x/crypto/ssh"
)

// GenerateKey returns a new ed25519 key as a signer and as an OpenSSH-format
// private key file (PEM "OPENSSH PRIVATE KEY"), ready to be written as an
// identity file.
func GenerateKey() (ssh.Signer, []byte, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("sshtest: generate key: %w", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("sshtest: signer: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "sshtest")
	if err != nil {
		return nil, nil, fmt.Errorf("sshtest: marshal key: %w", err)
	}
	return signer, pem.EncodeToMemory(block), nil
}

// GenerateKeyWithPassphrase is GenerateKey with the private key file
// encrypted under passphrase.
func GenerateKeyWithPassphrase(passphrase string) (ssh.Signer, []byte, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("sshtest: generate key: %w", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("sshtest: signer: %w", err)
	}
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "sshtest", []byte(passphrase))
	if err != nil {
		return nil, nil, fmt.Errorf("sshtest: marshal key: %w", err)
	}
	return signer, pem.EncodeToMemory(block), nil
}

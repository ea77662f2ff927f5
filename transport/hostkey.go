package transport

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// hostKeyChecker checks server host keys against known_hosts files the way
// ssh does, and records new keys when StrictHostKeyChecking allows it.
type hostKeyChecker struct {
	s      *sshSettings
	files  []string // known_hosts files that exist
	check  ssh.HostKeyCallback
	logger *slog.Logger
	err    *HostKeyError // the last refusal, returned instead of the handshake error
}

func newHostKeyChecker(s *sshSettings, logger *slog.Logger) (*hostKeyChecker, error) {
	h := &hostKeyChecker{s: s, logger: logger}
	for _, f := range append(append([]string{}, s.knownHosts...), s.globalKnown...) {
		if f == os.DevNull {
			continue
		}
		if _, err := os.Stat(f); err == nil {
			h.files = append(h.files, f)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("ssh known_hosts: %w", err)
		}
	}
	cb, err := knownhosts.New(h.files...)
	if err != nil {
		return nil, fmt.Errorf("ssh known_hosts: %w", err)
	}
	h.check = cb
	return h, nil
}

// recordFile is the file new keys are appended to: the first
// UserKnownHostsFile.
func (h *hostKeyChecker) recordFile() string {
	if len(h.s.knownHosts) > 0 {
		return h.s.knownHosts[0]
	}
	return ""
}

// knownAlgorithms returns the host key algorithm preference for the
// handshake: the algorithms of the keys known for the host first, so that
// the server shows a key we can verify instead of its preferred one (as ssh
// does), then the other allowed ones; every one of them in allowed
// (HostKeyAlgorithms, see sshalgos.go). allowed itself when no key is known.
func (h *hostKeyChecker) knownAlgorithms(allowed []string) []string {
	// Any key that is in no known_hosts file will do as the probe.
	probe := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	signer, err := ssh.NewSignerFromKey(probe)
	if err != nil {
		return allowed
	}
	err = h.check(h.s.knownHostsName(), placeholderAddr{}, signer.PublicKey())
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) {
		return allowed
	}
	var algos []string
	add := func(a ...string) {
		for _, x := range a {
			if contains(allowed, x) && !contains(algos, x) {
				algos = append(algos, x)
			}
		}
	}
	for _, k := range ke.Want {
		switch t := k.Key.Type(); {
		case t == ssh.KeyAlgoRSA:
			add(ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA)
		default:
			add(t)
		}
	}
	add(allowed...)
	return algos
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// placeholderAddr stands in for the remote address when probing.
type placeholderAddr struct{}

func (placeholderAddr) Network() string { return "tcp" }
func (placeholderAddr) String() string  { return "0.0.0.0:0" }

// callback is the ssh.HostKeyCallback. The name ssh.ClientConn passes is
// ignored: the lookup uses the known_hosts name ssh would use.
func (h *hostKeyChecker) callback(_ string, remote net.Addr, key ssh.PublicKey) error {
	name := h.s.knownHostsName()
	err := h.check(name, remote, key)
	if err == nil {
		return nil
	}
	herr := &HostKeyError{
		Host:           knownhosts.Normalize(name),
		Port:           h.s.port,
		User:           h.s.user,
		Fingerprint:    ssh.FingerprintSHA256(key),
		KeyType:        key.Type(),
		KnownHostsFile: h.recordFile(),
		Err:            err,
		hint:           h.sshCommand(),
	}
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case errors.As(err, &re):
		herr.Kind = "revoked"
		herr.KnownHostsFile, herr.Line = re.Revoked.Filename, re.Revoked.Line
	case errors.As(err, &ke) && len(ke.Want) > 0:
		herr.Kind = "changed"
		herr.KnownHostsFile, herr.Line = ke.Want[0].Filename, ke.Want[0].Line
	case errors.As(err, &ke):
		herr.Kind = "unknown"
		if h.s.strict != "yes" {
			return h.record(herr, key)
		}
	default:
		return fmt.Errorf("ssh: checking host key of %s: %w", name, err)
	}
	h.err = herr
	return herr
}

// record appends the key of an unknown host to the user's known_hosts.
func (h *hostKeyChecker) record(herr *HostKeyError, key ssh.PublicKey) error {
	file := h.recordFile()
	if file == "" || file == os.DevNull {
		h.logger.Warn("ssh: accepting unknown host key without recording it",
			"host", herr.Host, "fingerprint", herr.Fingerprint)
		return nil
	}
	if h.s.strict == "no" {
		h.logger.Warn("ssh: StrictHostKeyChecking is off; accepting an unknown host key unverified",
			"host", herr.Host, "fingerprint", herr.Fingerprint, "file", file)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("ssh: recording host key: %w", err)
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("ssh: recording host key: %w", err)
	}
	line := knownhosts.Line([]string{h.s.knownHostsName()}, key)
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 && !endsWithNewline(file) {
		line = "\n" + line
	}
	_, werr := f.WriteString(line + "\n")
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("ssh: recording host key: %w", werr)
	}
	h.logger.Info("ssh: permanently added host key to known_hosts",
		"host", herr.Host, "type", herr.KeyType, "fingerprint", herr.Fingerprint, "file", file)
	return nil
}

// sshCommand returns the ssh command line that reaches the same host under
// the same known_hosts name: the target as given (ssh applies the same
// config file) plus the -o options that matter.
func (h *hostKeyChecker) sshCommand() string {
	t := h.s.target
	cmd := "ssh "
	if t.Port != 0 && t.Port != 22 {
		cmd += fmt.Sprintf("-p %d ", t.Port)
	}
	for _, k := range []string{"HostName", "Port", "HostKeyAlias", "UserKnownHostsFile"} {
		if v, ok := t.Options[k]; ok {
			cmd += fmt.Sprintf("-o %s=%s ", k, v)
		}
	}
	if t.User != "" {
		cmd += t.User + "@"
	}
	return cmd + t.Host
}

func endsWithNewline(file string) bool {
	b, err := os.ReadFile(file)
	return err != nil || len(b) == 0 || strings.HasSuffix(string(b), "\n")
}

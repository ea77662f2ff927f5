package transport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// authSetup holds the authentication methods for one connection and the
// resources (the agent socket) to release after the handshake.
type authSetup struct {
	methods []ssh.AuthMethod
	closers []io.Closer

	mu    sync.Mutex
	tried []string // methods that were used, for AuthError

	// hints say why a key could not be offered and what to do about it
	// (a dead agent socket, a passphrase with no terminal to ask on); an
	// AuthError carries them to the user at default verbosity.
	hints []string

	sources  map[string]string // marshalled public key -> identity file (identity.go)
	identity string            // what last signed or answered (identity.go)
}

func (a *authSetup) hint(format string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.hints = append(a.hints, fmt.Sprintf(format, args...))
}

func (a *authSetup) allHints() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.hints...)
}

func (a *authSetup) used(method string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !contains(a.tried, method) {
		a.tried = append(a.tried, method)
	}
}

func (a *authSetup) triedMethods() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string{"none"}, a.tried...)
}

func (a *authSetup) close() {
	for _, c := range a.closers {
		c.Close()
	}
}

// buildAuth returns the methods in ssh's order: public keys (agent first,
// then identity files), then password and keyboard-interactive when a
// prompt is available. All keys share one "publickey" method because
// x/crypto/ssh tries each method name only once.
func buildAuth(s *sshSettings, opts *SSHOptions) (*authSetup, error) {
	a := &authSetup{}
	agentNote := "no ssh-agent"
	prompt := opts.Password
	if s.batchMode {
		prompt = nil
	}
	if s.pubkeyAuth {
		files := loadIdentities(s, prompt, opts.Logger, a)
		var signers []ssh.Signer
		seen := map[string]bool{}
		origin := "ssh-agent" // of the keys add is given (identity.go)
		add := func(sg ssh.Signer) {
			if sg = restrictSigner(sg, s.algos.pubkeys); sg == nil {
				return // PubkeyAcceptedAlgorithms excludes it (ssh-rsa, say)
			}
			k := string(sg.PublicKey().Marshal())
			if !seen[k] {
				seen[k] = true
				signers = append(signers, a.recording(sg, origin))
			}
		}
		if ag, conn := dialAgent(s, opts.Logger, a); ag != nil {
			a.closers = append(a.closers, conn)
			agentSigners, err := ag.Signers()
			agentNote = "the ssh-agent holds no key"
			if err != nil {
				opts.Logger.Debug("ssh: agent keys unavailable", "err", err)
			}
			var allowed []ssh.PublicKey
			if s.identitiesOnly {
				allowed = identityPublicKeys(s, files)
			}
			for _, sg := range agentSigners {
				if s.identitiesOnly && !hasKey(allowed, sg.PublicKey()) {
					continue
				}
				add(sg)
			}
		}
		for _, sg := range files {
			origin = a.sourceOf(sg)
			add(sg)
		}
		if len(signers) > 0 {
			a.methods = append(a.methods, ssh.PublicKeysCallback(func() ([]ssh.Signer, error) {
				a.used("publickey")
				return signers, nil
			}))
		}
	}
	if prompt != nil && s.passwordAuth {
		target := fmt.Sprintf("%s@%s", s.user, s.hostName)
		a.methods = append(a.methods, ssh.RetryableAuthMethod(ssh.PasswordCallback(func() (string, error) {
			a.used("password")
			a.setIdentity("password")
			return prompt(target + "'s password: ")
		}), 3))
	}
	if prompt != nil && s.kbdInteractive {
		a.methods = append(a.methods, ssh.RetryableAuthMethod(ssh.KeyboardInteractive(
			func(name, instruction string, questions []string, echos []bool) ([]string, error) {
				a.used("keyboard-interactive")
				a.setIdentity("keyboard-interactive")
				answers := make([]string, len(questions))
				for i, q := range questions {
					if echos[i] {
						return nil, errors.New("ssh: keyboard-interactive question with echo is not supported")
					}
					ans, err := prompt(fmt.Sprintf("(%s@%s) %s", s.user, s.hostName, q))
					if err != nil {
						return nil, err
					}
					answers[i] = ans
				}
				return answers, nil
			}), 3))
	}
	if len(a.methods) == 0 && len(a.hints) == 0 {
		why := "there is no terminal to ask for a password"
		if s.batchMode {
			why = "BatchMode yes forbids asking for a password"
		}
		files := strings.Join(s.identityFiles, ", ")
		if files == "" {
			files = "none configured"
		}
		a.hint("no key to offer (%s, no usable key file; looked for %s) and %s: "+
			"create a key (ssh-keygen) and install it on %s (ssh-copy-id), or load one into ssh-agent (ssh-add)",
			agentNote, files, why, s.hostName)
	}
	return a, nil
}

func hasKey(keys []ssh.PublicKey, k ssh.PublicKey) bool {
	for _, x := range keys {
		if bytes.Equal(x.Marshal(), k.Marshal()) {
			return true
		}
	}
	return false
}

// identityPublicKeys returns the public keys of the identity files: of the
// loaded private keys, of FILE.pub, and of FILE itself when it is a public
// key (IdentityFile may name the public half of a key held by the agent).
func identityPublicKeys(s *sshSettings, loaded []ssh.Signer) []ssh.PublicKey {
	var keys []ssh.PublicKey
	for _, sg := range loaded {
		keys = append(keys, sg.PublicKey())
	}
	for _, f := range s.identityFiles {
		for _, name := range []string{f, f + ".pub"} {
			if k := readPublicKey(name); k != nil {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// dialAgent connects to the ssh-agent named by IdentityAgent or
// $SSH_AUTH_SOCK. It returns nil when there is none or it cannot be reached.
//
// A socket that is named but dead (an agent that ended with the session
// that started it, a stale SSH_AUTH_SOCK in a cron or systemd environment)
// leaves a hint for the AuthError: why, and what to do.
func dialAgent(s *sshSettings, logger *slog.Logger, a *authSetup) (agent.ExtendedAgent, net.Conn) {
	sock := s.identityAgent
	if sock == "none" {
		return nil, nil
	}
	from, knob := "IdentityAgent "+sock, "IdentityAgent (~/.ssh/config)"
	if sock == "" {
		sock = os.Getenv("SSH_AUTH_SOCK")
		from, knob = "SSH_AUTH_SOCK="+sock, "SSH_AUTH_SOCK"
	}
	if sock == "" {
		return nil, nil
	}
	conn, err := net.DialTimeout("unix", sock, 5*time.Second)
	if err != nil {
		logger.Debug("ssh: cannot reach ssh-agent", "socket", sock, "err", err)
		reason := err.Error()
		var op *net.OpError
		if errors.As(err, &op) && op.Err != nil {
			reason = op.Err.Error()
		}
		a.hint("the ssh-agent at %s cannot be reached (%s): start one and add your key "+
			"(eval \"$(ssh-agent)\"; ssh-add), or point %s at a running agent",
			from, reason, knob)
		return nil, nil
	}
	return agent.NewClient(conn), conn
}

// loadIdentities reads the identity files that exist. A passphrase-protected
// key is used only when prompt is set; its passphrase is asked for only if
// the server accepts the public key.
//
// A passphrase-protected key skipped for want of a terminal leaves a hint
// in a for the AuthError.
func loadIdentities(s *sshSettings, prompt func(string) (string, error), logger *slog.Logger, a *authSetup) []ssh.Signer {
	var out []ssh.Signer
	for i, file := range s.identityFiles {
		pem, err := os.ReadFile(file)
		if err != nil {
			if i < s.explicitIDs || !errors.Is(err, os.ErrNotExist) {
				logger.Warn("ssh: cannot read identity file", "file", file, "err", err)
			}
			continue
		}
		signer, err := ssh.ParsePrivateKey(pem)
		var missing *ssh.PassphraseMissingError
		switch {
		case err == nil:
			out = append(out, signer)
			a.source(signer, file)
		case errors.As(err, &missing):
			if prompt == nil {
				logger.Debug("ssh: skipping passphrase-protected key: no terminal to ask for the passphrase", "file", file)
				why := "there is no terminal to ask for it"
				if s.batchMode {
					why = "BatchMode yes forbids asking for it"
				}
				a.hint("the key %s has a passphrase and %s: add it to ssh-agent (ssh-add %s) in the session that runs gofetchmail, "+
					"or run gofetchmail from a terminal", file, why, file)
				continue
			}
			pub := missing.PublicKey
			if pub == nil {
				pub = readPublicKey(file + ".pub")
			}
			lk := &lockedKey{file: file, pem: pem, pub: pub, prompt: prompt}
			if pub == nil {
				// No public half to offer first: ask now.
				if _, err := lk.unlock(); err != nil {
					logger.Warn("ssh: cannot unlock identity file", "file", file, "err", err)
					continue
				}
				out = append(out, lk.signer)
				a.source(lk.signer, file)
				continue
			}
			out = append(out, lk)
			a.source(lk, file)
		case readPublicKey(file) != nil:
			logger.Debug("ssh: identity file is a public key; its private half must be in the agent", "file", file)
		default:
			logger.Warn("ssh: cannot parse identity file", "file", file, "err", err)
		}
	}
	return out
}

func readPublicKey(file string) ssh.PublicKey {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		return nil
	}
	return k
}

// lockedKey is a passphrase-protected private key that asks for its
// passphrase when it first has to sign.
type lockedKey struct {
	file   string
	pem    []byte
	pub    ssh.PublicKey
	prompt func(string) (string, error)

	mu     sync.Mutex
	signer ssh.Signer
}

func (k *lockedKey) unlock() (ssh.Signer, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.signer != nil {
		return k.signer, nil
	}
	pass, err := k.prompt(fmt.Sprintf("Enter passphrase for key '%s': ", k.file))
	if err != nil {
		return nil, err
	}
	sg, err := ssh.ParsePrivateKeyWithPassphrase(k.pem, []byte(pass))
	if err != nil {
		return nil, fmt.Errorf("ssh: identity file %s: %w", k.file, err)
	}
	k.signer = sg
	return sg, nil
}

// PublicKey returns the public half, known without the passphrase.
func (k *lockedKey) PublicKey() ssh.PublicKey { return k.pub }

// Sign asks for the passphrase (once) and signs.
func (k *lockedKey) Sign(rand io.Reader, data []byte) (*ssh.Signature, error) {
	sg, err := k.unlock()
	if err != nil {
		return nil, err
	}
	return sg.Sign(rand, data)
}

// SignWithAlgorithm lets RSA keys sign with rsa-sha2-256/512.
func (k *lockedKey) SignWithAlgorithm(rand io.Reader, data []byte, algorithm string) (*ssh.Signature, error) {
	sg, err := k.unlock()
	if err != nil {
		return nil, err
	}
	if as, ok := sg.(ssh.AlgorithmSigner); ok {
		return as.SignWithAlgorithm(rand, data, algorithm)
	}
	if algorithm != "" && algorithm != sg.PublicKey().Type() {
		return nil, fmt.Errorf("ssh: key %s cannot sign with %s", k.file, algorithm)
	}
	return sg.Sign(rand, data)
}

package transport

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotSSHForward is returned by ParseSSHForward when a command is not a
// plain `ssh ... -L ...` port forward that gofetchmail can run in-process.
// The caller should then run the command through the shell as fetchmail does.
var ErrNotSSHForward = errors.New("not a single ssh -L port forward")

// ErrUnsupported is wrapped by DialSSH errors for SSH settings the in-process
// client cannot honour (ProxyJump, ProxyCommand, ...). A caller that got the
// settings from a preconnect command may fall back to running that command.
var ErrUnsupported = errors.New("not supported by the in-process ssh client")

// AuthError reports that the SSH server refused every authentication method
// that was tried. fetchmail's exit code for it is 3 (PS_AUTHFAIL).
type AuthError struct {
	User    string
	Host    string   // "host:port" dialled
	Methods []string // methods tried, e.g. ["none" "publickey" "password"]
	Err     error    // the error from the SSH library
	// Hints say why a method could not be tried and how to fix it: an
	// ssh-agent socket that is dead, a key with a passphrase and no
	// terminal to ask for it, nothing to offer at all.
	Hints []string
}

func (e *AuthError) Error() string {
	methods := "none"
	if len(e.Methods) > 0 {
		methods = strings.Join(e.Methods, ", ")
	}
	msg := fmt.Sprintf("ssh: authentication failed for %s@%s (methods tried: %s)", e.User, e.Host, methods)
	for _, h := range e.Hints {
		msg += "; " + h
	}
	return msg
}

func (e *AuthError) Unwrap() error { return e.Err }

// HostKeyError reports a host key that known_hosts does not accept.
// Kind is "unknown" (no key recorded for the host), "changed" (a different
// key is recorded: possibly an attack) or "revoked".
type HostKeyError struct {
	Host           string // the name looked up in known_hosts, e.g. "[popserver]:2222"
	Port           int
	User           string
	Kind           string
	Fingerprint    string // of the key the server offered, "SHA256:..."
	KeyType        string // e.g. "ssh-ed25519"
	KnownHostsFile string // file that would record the key (unknown) or holds the old key (changed)
	Line           int    // line of the old key (changed, revoked)
	Err            error

	hint string // the ssh command that verifies and records the key
}

func (e *HostKeyError) Error() string {
	switch e.Kind {
	case "changed":
		return fmt.Sprintf("ssh: REMOTE HOST KEY FOR %s HAS CHANGED: the server offered %s key %s, "+
			"but %s line %d holds a different key; someone could be intercepting the connection (an attack), "+
			"or the host key was replaced. Refusing to connect; if the change is expected, remove the old key "+
			"(ssh-keygen -R %q -f %s) and connect once with ssh to record the new one",
			e.Host, e.KeyType, e.Fingerprint, e.KnownHostsFile, e.Line, e.Host, e.KnownHostsFile)
	case "revoked":
		return fmt.Sprintf("ssh: host key %s %s of %s is marked revoked in %s line %d; refusing to connect",
			e.KeyType, e.Fingerprint, e.Host, e.KnownHostsFile, e.Line)
	default:
		return fmt.Sprintf("ssh: host key of %s is unknown (%s %s, not in %s); "+
			"connect once with `%s` to verify and record the key, or set StrictHostKeyChecking accept-new",
			e.Host, e.KeyType, e.Fingerprint, e.KnownHostsFile, e.sshCommand())
	}
}

func (e *HostKeyError) sshCommand() string {
	if e.hint != "" {
		return e.hint
	}
	host := e.Host
	if h, _, ok := strings.Cut(strings.TrimPrefix(host, "["), "]:"); ok {
		host = h
	}
	var b strings.Builder
	b.WriteString("ssh ")
	if e.Port != 0 && e.Port != 22 {
		fmt.Fprintf(&b, "-p %d ", e.Port)
	}
	if e.User != "" {
		b.WriteString(e.User + "@")
	}
	b.WriteString(host)
	return b.String()
}

func (e *HostKeyError) Unwrap() error { return e.Err }

// CommandError reports a shell or plugin command that failed.
type CommandError struct {
	Cmd      string
	ExitCode int    // -1 if the command did not exit normally (signal, not started)
	Stderr   string // the last lines the command wrote to stderr
	Err      error
}

func (e *CommandError) Error() string {
	msg := fmt.Sprintf("command %q failed", e.Cmd)
	if e.ExitCode >= 0 {
		msg = fmt.Sprintf("command %q exited with status %d", e.Cmd, e.ExitCode)
	} else if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if s := strings.TrimSpace(e.Stderr); s != "" {
		msg += ": " + s
	}
	return msg
}

func (e *CommandError) Unwrap() error { return e.Err }

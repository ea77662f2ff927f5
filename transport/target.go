package transport

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// SSHTarget is an SSH destination as given on a command line or in the rc
// file, before ~/.ssh/config is applied.
type SSHTarget struct {
	User          string            // "" = from ssh config, else the local user
	Host          string            // host name, alias from ssh config, or address
	Port          int               // 0 = from ssh config or 22
	IdentityFiles []string          // -i files, tried before config ones
	Options       map[string]string // -o options, keys in canonical case ("StrictHostKeyChecking")
}

// String returns "[user@]host[:port]".
func (t SSHTarget) String() string {
	s := t.Host
	if t.Port != 0 {
		s = net.JoinHostPort(t.Host, strconv.Itoa(t.Port))
	} else if strings.Contains(s, ":") {
		s = "[" + s + "]"
	}
	if t.User != "" {
		s = t.User + "@" + s
	}
	return s
}

// ParseSSHTunnelSpec parses the value of the rc option `sshtunnel` and the
// --sshtunnel flag: "[user@]host[:port]" or "[user@][v6addr]:port". A bare
// IPv6 address without brackets is taken as a host without port.
func ParseSSHTunnelSpec(spec string) (SSHTarget, error) {
	var t SSHTarget
	rest := strings.TrimSpace(spec)
	if strings.HasPrefix(rest, "ssh://") {
		return parseSSHURL(rest)
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		t.User, rest = rest[:i], rest[i+1:]
		if t.User == "" {
			return t, fmt.Errorf("sshtunnel %q: empty user name", spec)
		}
	}
	switch {
	case strings.HasPrefix(rest, "["):
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return t, fmt.Errorf("sshtunnel %q: missing ]", spec)
		}
		t.Host = rest[1:end]
		if tail := rest[end+1:]; tail != "" {
			if tail[0] != ':' {
				return t, fmt.Errorf("sshtunnel %q: text after ]", spec)
			}
			p, err := parsePort(tail[1:])
			if err != nil {
				return t, fmt.Errorf("sshtunnel %q: %w", spec, err)
			}
			t.Port = p
		}
	case strings.Count(rest, ":") == 1:
		host, port, _ := strings.Cut(rest, ":")
		p, err := parsePort(port)
		if err != nil {
			return t, fmt.Errorf("sshtunnel %q: %w", spec, err)
		}
		t.Host, t.Port = host, p
	default:
		t.Host = rest
	}
	if t.Host == "" || strings.ContainsAny(t.Host, " \t/") {
		return t, fmt.Errorf("sshtunnel %q: bad host name", spec)
	}
	return t, nil
}

func parsePort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > 65535 {
		return 0, fmt.Errorf("bad port %q", s)
	}
	return n, nil
}

// parseSSHDestination parses ssh(1)'s destination argument:
// [user@]host or ssh://[user@]host[:port].
func parseSSHDestination(dest string) (SSHTarget, error) {
	if strings.HasPrefix(dest, "ssh://") {
		return parseSSHURL(dest)
	}
	var t SSHTarget
	host := dest
	if i := strings.LastIndexByte(dest, '@'); i >= 0 {
		t.User, host = dest[:i], dest[i+1:]
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "" || (t.User == "" && strings.Contains(dest, "@")) {
		return t, notFwd("bad destination %q", dest)
	}
	t.Host = host
	return t, nil
}

func parseSSHURL(s string) (SSHTarget, error) {
	var t SSHTarget
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return t, fmt.Errorf("bad ssh URL %q", s)
	}
	t.User = u.User.Username()
	t.Host = u.Hostname()
	if p := u.Port(); p != "" {
		if t.Port, err = parsePort(p); err != nil {
			return t, fmt.Errorf("ssh URL %q: %w", s, err)
		}
	}
	return t, nil
}

// canonicalOption returns the usual spelling of an ssh_config keyword, so
// that "stricthostkeychecking" and "StrictHostKeyChecking" are one key.
func canonicalOption(k string) string {
	if c, ok := optionNames[strings.ToLower(k)]; ok {
		return c
	}
	return k
}

var optionNames = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"AddKeysToAgent", "AddressFamily", "BatchMode", "BindAddress", "CanonicalizeHostname",
		"CheckHostIP", "Ciphers", "ClearAllForwardings", "Compression", "ConnectionAttempts",
		"ConnectTimeout", "ControlMaster", "ControlPath", "ControlPersist", "DynamicForward",
		"ExitOnForwardFailure", "ForkAfterAuthentication", "ForwardAgent", "ForwardX11",
		"GatewayPorts", "GlobalKnownHostsFile", "HashKnownHosts", "HostKeyAlgorithms",
		"HostKeyAlias", "HostName", "IdentitiesOnly", "IdentityAgent", "IdentityFile",
		"KbdInteractiveAuthentication", "KexAlgorithms", "LocalCommand", "LocalForward",
		"LogLevel", "MACs", "NumberOfPasswordPrompts", "PasswordAuthentication",
		"PermitLocalCommand", "Port", "PreferredAuthentications", "ProxyCommand", "ProxyJump",
		"PubkeyAcceptedAlgorithms", "PubkeyAuthentication", "RemoteCommand", "RemoteForward",
		"RequestTTY", "SendEnv", "ServerAliveCountMax", "ServerAliveInterval", "SessionType",
		"StdinNull", "StrictHostKeyChecking", "TCPKeepAlive", "Tunnel", "UpdateHostKeys",
		"User", "UserKnownHostsFile", "VerifyHostKeyDNS",
	} {
		m[strings.ToLower(k)] = k
	}
	return m
}()

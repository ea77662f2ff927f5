package transport

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kevinburke/ssh_config"
)

// sshSettings is an SSHTarget after ~/.ssh/config and defaults are applied.
type sshSettings struct {
	target         SSHTarget // as given, before the config
	alias          string    // the host as the user wrote it
	hostName       string    // what is dialled
	port           int
	user           string
	identityFiles  []string
	explicitIDs    int // how many identityFiles came from -i (warn if missing)
	knownHosts     []string
	globalKnown    []string
	strict         string // "yes", "no", "accept-new" (and "ask" read as "yes")
	hostKeyAlias   string
	connectTimeout time.Duration
	identitiesOnly bool
	identityAgent  string // "" = $SSH_AUTH_SOCK, "none" = no agent
	passwordAuth   bool
	pubkeyAuth     bool
	kbdInteractive bool
	batchMode      bool
	compression    bool
	aliveInterval  time.Duration
	aliveCountMax  int
	proxyJump      string // ProxyJump hops, "" for a direct connection
	algos          *sshAlgorithms
	unsupported    []string // options set that the client cannot honour
}

// addr returns "hostname:port", the address dialled.
func (s *sshSettings) addr() string {
	return net.JoinHostPort(s.hostName, strconv.Itoa(s.port))
}

// knownHostsName returns the name ssh looks up in known_hosts, as
// "host:port" for the knownhosts package: HostKeyAlias as is (port 22 means
// no port in the file) or the host name with its port.
func (s *sshSettings) knownHostsName() string {
	if s.hostKeyAlias != "" {
		return net.JoinHostPort(s.hostKeyAlias, "22")
	}
	return s.addr()
}

// loadSSHConfig reads the user's ssh config file; a missing file is an
// empty config.
func loadSSHConfig(file string) (*ssh_config.Config, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return &ssh_config.Config{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ssh config: %w", err)
	}
	cfg, err := ssh_config.Decode(bytes.NewReader(b))
	if err != nil {
		// e.g. Match exec: ssh would read this file differently.
		return nil, fmt.Errorf("ssh config %s: %w: %w", file, ErrUnsupported, err)
	}
	return cfg, nil
}

// resolveSSH applies command-line options, the ssh config file and the
// defaults to t, in ssh's order of precedence.
func resolveSSH(t SSHTarget, cfg *ssh_config.Config, home, localUser string) (*sshSettings, error) {
	get := func(key string) string {
		for k, v := range t.Options {
			if strings.EqualFold(k, key) {
				return v
			}
		}
		v, _ := cfg.Get(t.Host, key)
		return v
	}
	getAll := func(key string) []string {
		var out []string
		for k, v := range t.Options {
			if strings.EqualFold(k, key) {
				out = append(out, v)
			}
		}
		vs, _ := cfg.GetAll(t.Host, key)
		return append(out, vs...)
	}
	yes := func(key string, def bool) bool {
		switch strings.ToLower(get(key)) {
		case "yes", "true":
			return true
		case "no", "false":
			return false
		}
		return def
	}

	s := &sshSettings{target: t, alias: t.Host}
	s.hostName = t.Host
	if hn := get("HostName"); hn != "" {
		s.hostName = strings.ReplaceAll(strings.ReplaceAll(hn, "%h", t.Host), "%%", "%")
	}
	s.port = t.Port
	if s.port == 0 {
		if p := get("Port"); p != "" {
			n, err := parsePort(p)
			if err != nil {
				return nil, fmt.Errorf("ssh config for %s: Port: %w", t.Host, err)
			}
			s.port = n
		} else {
			s.port = 22
		}
	}
	s.user = t.User
	if s.user == "" {
		s.user = get("User")
	}
	if s.user == "" {
		s.user = localUser
	}

	expand := func(p string) string { return expandSSHPath(p, home, localUser, s) }
	for _, f := range t.IdentityFiles {
		s.identityFiles = append(s.identityFiles, expand(f))
	}
	s.explicitIDs = len(s.identityFiles)
	for _, f := range getAll("IdentityFile") {
		if strings.EqualFold(f, "none") {
			continue
		}
		s.identityFiles = append(s.identityFiles, expand(f))
	}
	if len(s.identityFiles) == 0 {
		for _, name := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			s.identityFiles = append(s.identityFiles, filepath.Join(home, ".ssh", name))
		}
	}

	if v := get("UserKnownHostsFile"); v != "" {
		for _, f := range strings.Fields(v) {
			s.knownHosts = append(s.knownHosts, expand(f))
		}
	} else {
		s.knownHosts = []string{filepath.Join(home, ".ssh", "known_hosts"), filepath.Join(home, ".ssh", "known_hosts2")}
	}
	if v := get("GlobalKnownHostsFile"); v != "" {
		for _, f := range strings.Fields(v) {
			s.globalKnown = append(s.globalKnown, expand(f))
		}
	} else {
		s.globalKnown = []string{"/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"}
	}

	switch v := strings.ToLower(get("StrictHostKeyChecking")); v {
	case "", "ask", "yes", "true":
		s.strict = "yes"
	case "no", "off", "false":
		s.strict = "no"
	case "accept-new":
		s.strict = "accept-new"
	default:
		return nil, fmt.Errorf("ssh config for %s: bad StrictHostKeyChecking %q", t.Host, v)
	}
	s.hostKeyAlias = get("HostKeyAlias")

	if v := get("ConnectTimeout"); v != "" && !strings.EqualFold(v, "none") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("ssh config for %s: bad ConnectTimeout %q", t.Host, v)
		}
		s.connectTimeout = time.Duration(n) * time.Second
	}
	if v := get("ServerAliveInterval"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			s.aliveInterval = time.Duration(n) * time.Second
		}
	}
	s.aliveCountMax = 3
	if v := get("ServerAliveCountMax"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			s.aliveCountMax = n
		}
	}

	s.identitiesOnly = yes("IdentitiesOnly", false)
	switch v := get("IdentityAgent"); {
	case v == "" || v == "SSH_AUTH_SOCK" || v == "$SSH_AUTH_SOCK":
		// The default: $SSH_AUTH_SOCK.
	case strings.EqualFold(v, "none"):
		s.identityAgent = "none"
	case strings.HasPrefix(v, "$"):
		s.identityAgent = os.Getenv(v[1:])
		if s.identityAgent == "" {
			s.identityAgent = "none"
		}
	default:
		s.identityAgent = expand(v)
	}
	s.passwordAuth = yes("PasswordAuthentication", true)
	s.pubkeyAuth = yes("PubkeyAuthentication", true)
	s.kbdInteractive = yes("KbdInteractiveAuthentication", true)
	s.batchMode = yes("BatchMode", false)
	s.compression = yes("Compression", false)

	algos, err := resolveAlgorithms(t.Host, get)
	if err != nil {
		return nil, err
	}
	s.algos = algos

	if v := get("ProxyJump"); v != "" && !strings.EqualFold(v, "none") {
		s.proxyJump = v
	}
	if v := get("ProxyCommand"); v != "" && !strings.EqualFold(v, "none") {
		s.unsupported = append(s.unsupported, "ProxyCommand")
	}
	return s, nil
}

// expandSSHPath expands ~ and the tokens %d (home), %u (local user),
// %h (host name), %r (remote user), %p (port), %n (alias as given) and %%.
func expandSSHPath(p, home, localUser string, s *sshSettings) string {
	if p == "~" {
		p = home
	} else if strings.HasPrefix(p, "~/") {
		p = filepath.Join(home, p[2:])
	}
	if !strings.Contains(p, "%") {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] != '%' || i+1 == len(p) {
			b.WriteByte(p[i])
			continue
		}
		i++
		switch p[i] {
		case '%':
			b.WriteByte('%')
		case 'd':
			b.WriteString(home)
		case 'u':
			b.WriteString(localUser)
		case 'h':
			b.WriteString(s.hostName)
		case 'r':
			b.WriteString(s.user)
		case 'p':
			b.WriteString(strconv.Itoa(s.port))
		case 'n':
			b.WriteString(s.alias)
		default:
			b.WriteByte('%')
			b.WriteByte(p[i])
		}
	}
	return b.String()
}

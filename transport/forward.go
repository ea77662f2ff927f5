package transport

import (
	"fmt"
	"net"
	"path"
	"strconv"
	"strings"
)

// Forward is a recognised `ssh ... -L [bind:]lport:rhost:rport` command: the
// SSH connection to make, and the local port it would have forwarded.
type Forward struct {
	Target      SSHTarget
	BindAddr    string // "" when the -L spec has no bind address
	LocalPort   int
	RemoteHost  string // as seen from the SSH server
	RemotePort  int
	Compression bool     // -C was given (the in-process client cannot compress)
	Command     []string // remote command after the host, e.g. ["sleep" "5"]
}

// RemoteAddr returns RemoteHost:RemotePort, the address to open a
// direct-tcpip channel to.
func (f *Forward) RemoteAddr() string {
	return net.JoinHostPort(f.RemoteHost, strconv.Itoa(f.RemotePort))
}

// ssh(1) option letters: flags without an argument that do not change what
// the forward does, options whose argument is ignored here, and the options
// whose argument matters.
const (
	sshFlagLetters    = "46CfNqTnvxaAgkKtXYy"
	sshIgnoredArgOpts = "cmeEBPb"
	sshValueOpts      = "lpioLJ"
)

// ParseSSHForward recognises a preconnect command of the form
//
//	[exec] [/path/to/]ssh [options] [user@]host -L [bind:]lport:rhost:rport [command...]
//
// Options may appear before and after the host, combined (-fN, -Cf) or with
// attached values (-p2222, -oKey=Value). Supported options are -l, -p, -i,
// -o, -J and -L plus the flags -4 -6 -C -f -N -q -T -n -v -x -a -A -g -k -K -t
// -X -Y -y; -c -m -e -E -B -P -b take a value that is ignored. Anything else
// (other commands, shell operators, several -L, -R, -D, -W, -F, unknown
// options) returns an error wrapping ErrNotSSHForward.
func ParseSSHForward(cmd string) (*Forward, error) {
	words, err := splitShellWords(cmd)
	if err != nil {
		return nil, err
	}
	if len(words) > 0 && words[0] == "exec" {
		words = words[1:]
	}
	if len(words) == 0 || path.Base(words[0]) != "ssh" || (strings.Contains(words[0], "/") && !strings.HasPrefix(words[0], "/")) {
		return nil, fmt.Errorf("%w: not an ssh command", ErrNotSSHForward)
	}
	p := sshArgParser{f: &Forward{}}
	if err := p.parse(words[1:]); err != nil {
		return nil, err
	}
	return p.f, nil
}

type sshArgParser struct {
	f       *Forward
	host    string
	haveL   bool
	plugin  bool   // parsing a plugin command: -W instead of -L
	stdio   string // the -W host:port of a plugin command
	user    string // from -l
	port    int    // from -p
	idents  []string
	options map[string]string
}

func notFwd(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotSSHForward, fmt.Sprintf(format, args...))
}

func (p *sshArgParser) parse(args []string) error {
	i := 0
	for i < len(args) {
		a := args[i]
		i++
		if a == "--" {
			if p.host == "" && i < len(args) {
				if err := p.destination(args[i]); err != nil {
					return err
				}
				i++
			}
			p.f.Command = args[i:]
			break
		}
		if len(a) < 2 || a[0] != '-' {
			if p.host != "" {
				p.f.Command = args[i-1:]
				break
			}
			if err := p.destination(a); err != nil {
				return err
			}
			continue
		}
		// A group of option letters, e.g. -fN or -p2222.
		for j := 1; j < len(a); j++ {
			c := a[j]
			switch {
			case strings.IndexByte(sshFlagLetters, c) >= 0:
				if c == 'C' {
					p.f.Compression = true
					p.setOption("Compression", "yes")
				}
			case strings.IndexByte(sshIgnoredArgOpts, c) >= 0 || strings.IndexByte(sshValueOpts, c) >= 0:
				val := a[j+1:]
				if val == "" {
					if i >= len(args) {
						return notFwd("option -%c needs a value", c)
					}
					val = args[i]
					i++
				}
				if err := p.option(c, val); err != nil {
					return err
				}
				j = len(a)
			case c == 'W' && p.plugin:
				if p.stdio != "" || i >= len(args) && j == len(a)-1 {
					return notFwd("option -W needs one host:port")
				}
				p.stdio = a[j+1:]
				if p.stdio == "" {
					p.stdio = args[i]
					i++
				}
				j = len(a)
			default:
				return notFwd("ssh option -%c is not supported", c)
			}
		}
	}
	if p.host == "" {
		return notFwd("no host")
	}
	if !p.haveL && !p.plugin {
		return notFwd("no -L forward")
	}
	t := SSHTarget{User: p.user, Host: p.host, Port: p.port}
	t.IdentityFiles = p.idents
	t.Options = p.options
	p.f.Target = t
	return nil
}

// setOption records -o key=val; as in ssh, the first value given wins.
func (p *sshArgParser) setOption(key, val string) {
	if p.options == nil {
		p.options = map[string]string{}
	}
	if _, dup := p.options[key]; !dup {
		p.options[key] = val
	}
}

// rejectedOptions change what ssh does beyond one local forward.
var rejectedOptions = map[string]bool{
	"localforward": true, "remoteforward": true, "dynamicforward": true,
	"sessiontype": true, "remotecommand": true, "controlmaster": true,
	"controlpath": true, "tunnel": true, "localcommand": true,
}

// destination records the host argument. As in ssh, the first user and
// port given win, whether from -l/-p or from user@host and ssh://host:port.
func (p *sshArgParser) destination(arg string) error {
	t, err := parseSSHDestination(arg)
	if err != nil {
		return err
	}
	p.host = t.Host
	if p.user == "" {
		p.user = t.User
	}
	if p.port == 0 {
		p.port = t.Port
	}
	return nil
}

func (p *sshArgParser) option(c byte, val string) error {
	switch c {
	case 'l':
		if p.user == "" {
			p.user = val
		}
	case 'p':
		n, err := strconv.Atoi(val)
		if err != nil || n <= 0 || n > 65535 {
			return notFwd("bad port %q", val)
		}
		if p.port == 0 {
			p.port = n
		}
	case 'i':
		p.idents = append(p.idents, val)
	case 'o':
		k, v, err := splitSSHOption(val)
		if err != nil {
			return err
		}
		if rejectedOptions[strings.ToLower(k)] {
			return notFwd("-o %s is not supported", k)
		}
		// -o User and -o Port share first-wins with -l, -p and user@host.
		switch k {
		case "User":
			if p.user == "" {
				p.user = v
			}
		case "Port":
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 || n > 65535 {
				return notFwd("bad port %q", v)
			}
			if p.port == 0 {
				p.port = n
			}
		}
		p.setOption(k, v)
	case 'J':
		p.setOption("ProxyJump", val)
	case 'L':
		if p.plugin {
			return notFwd("-L in a plugin command")
		}
		if p.haveL {
			return notFwd("several -L forwards")
		}
		p.haveL = true
		return p.parseL(val)
	}
	return nil
}

// splitSSHOption splits "Key=Value", "Key Value" or "Key = Value" and
// returns the key in its canonical spelling.
func splitSSHOption(s string) (key, val string, err error) {
	s = strings.TrimSpace(s)
	i := strings.IndexAny(s, "= \t")
	if i <= 0 {
		return "", "", notFwd("bad -o option %q", s)
	}
	key, val = s[:i], strings.TrimSpace(s[i:])
	val = strings.TrimSpace(strings.TrimPrefix(val, "="))
	if val == "" {
		return "", "", notFwd("-o %s has no value", key)
	}
	return canonicalOption(key), val, nil
}

// parseL parses a -L argument: [bind:]lport:rhost:rport, with IPv6
// addresses in brackets.
func (p *sshArgParser) parseL(spec string) error {
	fields, err := splitColonFields(spec)
	if err != nil {
		return err
	}
	var bind, lport, rhost, rport string
	switch len(fields) {
	case 3:
		lport, rhost, rport = fields[0], fields[1], fields[2]
	case 4:
		bind, lport, rhost, rport = fields[0], fields[1], fields[2], fields[3]
		if bind == "" {
			bind = "*"
		}
	default:
		return notFwd("-L %q is not [bind:]port:host:hostport", spec)
	}
	lp, err1 := strconv.Atoi(lport)
	rp, err2 := strconv.Atoi(rport)
	if err1 != nil || err2 != nil || lp <= 0 || lp > 65535 || rp <= 0 || rp > 65535 || rhost == "" {
		return notFwd("-L %q is not [bind:]port:host:hostport", spec)
	}
	p.f.BindAddr, p.f.LocalPort, p.f.RemoteHost, p.f.RemotePort = bind, lp, rhost, rp
	return nil
}

// splitColonFields splits on ':' outside square brackets and strips the
// brackets.
func splitColonFields(s string) ([]string, error) {
	var out []string
	for {
		if strings.HasPrefix(s, "[") {
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return nil, notFwd("unbalanced [ in %q", s)
			}
			field, rest := s[1:end], s[end+1:]
			if rest != "" && rest[0] != ':' {
				return nil, notFwd("bad address %q", s)
			}
			out = append(out, field)
			if rest == "" {
				return out, nil
			}
			s = rest[1:]
			continue
		}
		field, rest, more := strings.Cut(s, ":")
		out = append(out, field)
		if !more {
			return out, nil
		}
		s = rest
	}
}

// Matches reports whether a poll of pollHost:pollPort reaches the local end
// of the forward: pollHost is a loopback name or address, the port is
// LocalPort, and the bind address (if any) listens on loopback. A bind
// address of "*", "0.0.0.0" or "::" includes loopback and also matches.
func (f *Forward) Matches(pollHost string, pollPort int) bool {
	if f == nil || pollPort != f.LocalPort || !IsLoopbackHost(pollHost) {
		return false
	}
	switch f.BindAddr {
	case "", "*", "0.0.0.0", "::":
		return true
	}
	return IsLoopbackHost(f.BindAddr)
}

// IsLoopbackHost reports whether host names the local machine's loopback
// interface: localhost, ip6-localhost, ip6-loopback, 127.0.0.0/8 or ::1
// (brackets allowed). It does not consult DNS or /etc/hosts.
func IsLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	switch strings.ToLower(strings.TrimSuffix(host, ".")) {
	case "localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback":
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

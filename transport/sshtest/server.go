package sshtest

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// ServerOptions configures NewServer.
type ServerOptions struct {
	// Users maps user names to passwords for password (and
	// keyboard-interactive) authentication.
	Users map[string]string
	// AuthorizedKeys maps user names to the public keys they may log in with.
	AuthorizedKeys map[string][]ssh.PublicKey
	// HostKey is the server's host key; nil generates an ed25519 key.
	HostKey ssh.Signer
	// ExtraHostKeys are further host keys of other types, offered when
	// the client prefers their algorithm.
	ExtraHostKeys []ssh.Signer
	// Forward, if set, connects direct-tcpip channels instead of net.Dial.
	// Without it only loopback targets are dialled.
	Forward func(host string, port int) (net.Conn, error)
	// Exec, if set, serves "exec" requests on session channels: it gets the
	// channel as stdin/stdout and returns the exit status.
	Exec func(user, command string, ch io.ReadWriteCloser) int
	// StallGlobalRequests leaves global requests such as
	// keepalive@openssh.com unanswered, like a hung server.
	StallGlobalRequests bool
	// Logf, if set, receives a line per notable event.
	Logf func(format string, args ...any)
	// Algorithms, if set, restricts the key exchanges, ciphers and MACs the
	// server offers (to play a legacy server offering only SHA-1 ones, say).
	// The host key algorithms follow from HostKey: wrap it with
	// ssh.NewSignerWithAlgorithms to offer only ssh-rsa.
	Algorithms ssh.Config
}

// Server is a running in-process SSH server.
type Server struct {
	Addr    string // "127.0.0.1:port"
	HostKey ssh.Signer

	opts     ServerOptions
	ln       net.Listener
	config   *ssh.ServerConfig
	forwards atomic.Int64
	logins   atomic.Int64
	closed   atomic.Bool

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// NewServer starts a server listening on 127.0.0.1 on an ephemeral port.
func NewServer(opts ServerOptions) (*Server, error) {
	hostKey := opts.HostKey
	if hostKey == nil {
		var err error
		if hostKey, _, err = GenerateKey(); err != nil {
			return nil, err
		}
	}
	s := &Server{HostKey: hostKey, opts: opts, conns: map[net.Conn]struct{}{}}
	cfg := &ssh.ServerConfig{Config: opts.Algorithms}
	if len(opts.Users) > 0 {
		cfg.PasswordCallback = s.checkPassword
		cfg.KeyboardInteractiveCallback = func(c ssh.ConnMetadata, challenge ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			answers, err := challenge("", "", []string{"Password: "}, []bool{false})
			if err != nil {
				return nil, err
			}
			if len(answers) != 1 {
				return nil, errors.New("sshtest: want one answer")
			}
			return s.checkPassword(c, []byte(answers[0]))
		}
	}
	if len(opts.AuthorizedKeys) > 0 {
		cfg.PublicKeyCallback = s.checkKey
	}
	for _, k := range opts.ExtraHostKeys {
		cfg.AddHostKey(k)
	}
	cfg.AddHostKey(hostKey)
	s.config = cfg
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("sshtest: listen: %w", err)
	}
	s.ln = ln
	s.Addr = ln.Addr().String()
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

// Port returns the port the server listens on.
func (s *Server) Port() int {
	return s.ln.Addr().(*net.TCPAddr).Port
}

// ForwardCount returns how many direct-tcpip channels the server accepted.
func (s *Server) ForwardCount() int { return int(s.forwards.Load()) }

// LoginCount returns how many SSH logins succeeded.
func (s *Server) LoginCount() int { return int(s.logins.Load()) }

// KnownHostsLine returns a known_hosts line for the server's host key under
// the given names; with no names it uses "[127.0.0.1]:port".
func (s *Server) KnownHostsLine(hostnames ...string) string {
	if len(hostnames) == 0 {
		hostnames = []string{s.Addr}
	}
	return knownhosts.Line(hostnames, s.HostKey.PublicKey())
}

// Close stops the listener and closes every open connection.
func (s *Server) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	err := s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) checkPassword(c ssh.ConnMetadata, pass []byte) (*ssh.Permissions, error) {
	want, ok := s.opts.Users[c.User()]
	if ok && subtle.ConstantTimeCompare([]byte(want), pass) == 1 {
		return &ssh.Permissions{}, nil
	}
	s.logf("sshtest: password rejected for %q", c.User())
	return nil, fmt.Errorf("sshtest: bad password for %q", c.User())
}

func (s *Server) checkKey(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	for _, k := range s.opts.AuthorizedKeys[c.User()] {
		if bytes.Equal(k.Marshal(), key.Marshal()) {
			return &ssh.Permissions{}, nil
		}
	}
	return nil, fmt.Errorf("sshtest: key %s not authorized for %q", ssh.FingerprintSHA256(key), c.User())
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed.Load() {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.handle(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		}()
	}
}

func (s *Server) handle(c net.Conn) {
	conn, chans, reqs, err := ssh.NewServerConn(c, s.config)
	if err != nil {
		s.logf("sshtest: handshake: %v", err)
		return
	}
	defer conn.Close()
	s.logins.Add(1)
	s.logf("sshtest: login %q from %s", conn.User(), conn.RemoteAddr())
	if s.opts.StallGlobalRequests {
		go func() {
			for range reqs {
			}
		}()
	} else {
		go ssh.DiscardRequests(reqs) // keepalive@openssh.com gets a "failure" reply, as from OpenSSH
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	for nc := range chans {
		switch nc.ChannelType() {
		case "direct-tcpip":
			wg.Add(1)
			go func() { defer wg.Done(); s.directTCPIP(nc) }()
		case "session":
			if s.opts.Exec == nil {
				nc.Reject(ssh.Prohibited, "no sessions")
				continue
			}
			wg.Add(1)
			go func() { defer wg.Done(); s.session(conn.User(), nc) }()
		default:
			nc.Reject(ssh.UnknownChannelType, "unknown channel type")
		}
	}
}

// directTCPIPMsg is the payload of a direct-tcpip channel open (RFC 4254 7.2).
type directTCPIPMsg struct {
	Host     string
	Port     uint32
	OrigHost string
	OrigPort uint32
}

func (s *Server) directTCPIP(nc ssh.NewChannel) {
	var m directTCPIPMsg
	if err := ssh.Unmarshal(nc.ExtraData(), &m); err != nil {
		nc.Reject(ssh.ConnectionFailed, "bad direct-tcpip payload")
		return
	}
	var target net.Conn
	var err error
	if s.opts.Forward != nil {
		target, err = s.opts.Forward(m.Host, int(m.Port))
	} else if ip := net.ParseIP(m.Host); m.Host == "localhost" || (ip != nil && ip.IsLoopback()) {
		target, err = net.Dial("tcp", net.JoinHostPort(m.Host, strconv.Itoa(int(m.Port))))
	} else {
		err = fmt.Errorf("sshtest: refusing non-loopback target %s", m.Host)
	}
	if err != nil {
		s.logf("sshtest: direct-tcpip to %s:%d: %v", m.Host, m.Port, err)
		nc.Reject(ssh.ConnectionFailed, err.Error())
		return
	}
	// Counted before Accept: the client learns of the channel from the
	// confirmation Accept sends, and must then see it counted.
	s.forwards.Add(1)
	ch, reqs, err := nc.Accept()
	if err != nil {
		s.forwards.Add(-1)
		target.Close()
		return
	}
	s.logf("sshtest: direct-tcpip to %s:%d", m.Host, m.Port)
	go ssh.DiscardRequests(reqs)
	pipe(ch, target)
}

// pipe copies both ways and closes both ends when either side is done.
func pipe(ch ssh.Channel, c net.Conn) {
	done := make(chan struct{}, 2)
	go func() {
		io.Copy(c, ch)
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		} else {
			c.Close()
		}
		done <- struct{}{}
	}()
	go func() {
		io.Copy(ch, c)
		ch.CloseWrite()
		done <- struct{}{}
	}()
	<-done
	<-done
	ch.Close()
	c.Close()
}

func (s *Server) session(user string, nc ssh.NewChannel) {
	ch, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	defer ch.Close()
	for req := range reqs {
		if req.Type != "exec" {
			req.Reply(req.Type == "env", nil)
			continue
		}
		var m struct{ Command string }
		if err := ssh.Unmarshal(req.Payload, &m); err != nil {
			req.Reply(false, nil)
			continue
		}
		req.Reply(true, nil)
		go ssh.DiscardRequests(reqs)
		s.logf("sshtest: exec %q for %q", m.Command, user)
		status := s.opts.Exec(user, m.Command, ch)
		ch.CloseWrite()
		ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(status)}))
		return
	}
}

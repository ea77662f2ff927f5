package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// DefaultSSHConnectTimeout bounds the TCP connect and SSH handshake when
// neither SSHOptions nor the ssh config sets ConnectTimeout.
const DefaultSSHConnectTimeout = 30 * time.Second

// SSHOptions are the local settings DialSSH needs besides the target.
type SSHOptions struct {
	// Home is where ~/.ssh lives (config, known_hosts, id_*).
	// Default: os.UserHomeDir().
	Home string
	// ConfigFile is the ssh config file; default Home/.ssh/config.
	// A missing file is the same as an empty one.
	ConfigFile string
	// LocalUser is the default remote user and the %u token;
	// default: the current user's name.
	LocalUser string
	// Password asks for a password or key passphrase. Nil means there is no
	// one to ask (no terminal): password authentication and
	// passphrase-protected keys are skipped.
	Password func(prompt string) (string, error)
	// Logger receives debug and warning messages; nil discards them.
	Logger *slog.Logger
	// ConnectTimeout bounds connect and handshake; default from
	// ConnectTimeout in the ssh config, else DefaultSSHConnectTimeout.
	ConnectTimeout time.Duration
}

// SSHClient is an authenticated SSH connection that opens direct-tcpip
// channels, like `ssh -L` without the local listening port.
type SSHClient struct {
	client *ssh.Client
	addr   string
	user   string
	logger *slog.Logger
	jump   *SSHClient // the ProxyJump hop this connection runs through

	identity string // what logged in (identity.go)

	closeOnce sync.Once
	done      chan struct{}
}

var compressionOnce sync.Once

// DialSSH connects and authenticates to the SSH server t, resolved through
// the ssh config file. Host keys are verified against known_hosts.
//
// Errors: *HostKeyError when the host key is unknown or changed,
// *AuthError when every authentication method failed, an error wrapping
// ErrUnsupported for ssh config settings the client cannot honour
// (ProxyCommand, Match exec), and otherwise a wrapped dial or handshake error
// (context.DeadlineExceeded on timeout). ctx bounds the connect and
// handshake only; the returned client lives until Close.
//
// ProxyJump (from the config or -o) is followed in-process: the client
// connects to the jump host, opens a direct-tcpip channel to the target and
// runs the SSH handshake over it, hop by hop.
func DialSSH(ctx context.Context, t SSHTarget, opts SSHOptions) (*SSHClient, error) {
	return dialSSH(ctx, t, opts, 0)
}

// maxJumpHops bounds ProxyJump chains (and loops such as "Host *" with a
// ProxyJump).
const maxJumpHops = 8

func dialSSH(ctx context.Context, t SSHTarget, opts SSHOptions, depth int) (*SSHClient, error) {
	if t.Host == "" {
		return nil, errors.New("ssh: no host given")
	}
	if err := opts.fillDefaults(); err != nil {
		return nil, err
	}
	cfgFile, err := loadSSHConfig(opts.ConfigFile)
	if err != nil {
		return nil, err
	}
	s, err := resolveSSH(t, cfgFile, opts.Home, opts.LocalUser)
	if err != nil {
		return nil, err
	}
	if len(s.unsupported) > 0 {
		return nil, fmt.Errorf("ssh to %s: %s: %w", t.Host, strings.Join(s.unsupported, ", "), ErrUnsupported)
	}
	if s.compression {
		compressionOnce.Do(func() {
			opts.Logger.Debug("ssh: compression (-C) is not supported by the in-process client; continuing without it")
		})
	}
	timeout := opts.ConnectTimeout
	if timeout <= 0 {
		timeout = s.connectTimeout
	}
	if timeout <= 0 {
		timeout = DefaultSSHConnectTimeout
	}

	hk, err := newHostKeyChecker(s, opts.Logger)
	if err != nil {
		return nil, err
	}
	auth, err := buildAuth(s, &opts)
	if err != nil {
		return nil, err
	}
	defer auth.close()

	config := &ssh.ClientConfig{
		Config: ssh.Config{
			KeyExchanges: s.algos.kex,
			Ciphers:      s.algos.ciphers,
			MACs:         s.algos.macs,
		},
		User:              s.user,
		Auth:              auth.methods,
		HostKeyCallback:   hk.callback,
		HostKeyAlgorithms: hk.knownAlgorithms(s.algos.hostKeys),
	}
	addr := s.addr()
	opts.Logger.Debug("ssh: connecting", "addr", addr, "user", s.user, "alias", s.alias)

	var jump *SSHClient
	if s.proxyJump != "" {
		if depth >= maxJumpHops {
			return nil, fmt.Errorf("ssh: ProxyJump chain to %s is longer than %d hops (a loop in the ssh config?)", t.Host, maxJumpHops)
		}
		jt, err := jumpTarget(s.proxyJump)
		if err != nil {
			return nil, fmt.Errorf("ssh: ProxyJump for %s: %w", t.Host, err)
		}
		opts.Logger.Debug("ssh: connecting through jump host", "jump", jt.String(), "target", addr)
		if jump, err = dialSSH(ctx, jt, opts, depth+1); err != nil {
			return nil, err
		}
	}

	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var conn net.Conn
	if jump != nil {
		conn, err = jump.DialContext(dctx, "tcp", addr)
	} else {
		var d net.Dialer
		conn, err = d.DialContext(dctx, "tcp", addr)
		if err != nil {
			err = fmt.Errorf("ssh: %w", &DialError{Addr: addr, Err: err})
		} else {
			conn = withQuickAck(conn)
		}
	}
	if err != nil {
		if jump != nil {
			jump.Close()
		}
		return nil, err
	}
	// Deadlines may not reach every conn type, so the handshake is also
	// bounded by closing the connection when dctx ends.
	if dl, ok := dctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(dctx, func() { conn.Close() })
	sconn, chans, reqs, err := ssh.NewClientConn(conn, addr, config)
	stopped := stop()
	if err == nil && !stopped {
		// dctx ended just as the handshake finished; conn is closed.
		sconn.Close()
		err = context.DeadlineExceeded
	}
	if err != nil {
		conn.Close()
		if jump != nil {
			jump.Close()
		}
		switch {
		case hk.err != nil:
			return nil, hk.err
		case ctx.Err() != nil:
			return nil, fmt.Errorf("ssh: handshake with %s: %w", addr, ctx.Err())
		case dctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded):
			return nil, fmt.Errorf("ssh: handshake with %s timed out after %s: %w", addr, timeout, context.DeadlineExceeded)
		}
		return nil, classifyHandshakeError(err, hk, auth, s, addr)
	}
	conn.SetDeadline(time.Time{})

	c := &SSHClient{
		client: ssh.NewClient(sconn, chans, reqs),
		addr:   addr,
		user:   s.user,
		logger: opts.Logger,
		done:   make(chan struct{}),
		jump:   jump,

		identity: auth.lastIdentity(),
	}
	opts.Logger.Debug("ssh: authenticated", "addr", addr, "user", s.user, "server", string(sconn.ServerVersion()))
	if s.aliveInterval > 0 {
		c.StartKeepalive(s.aliveInterval, s.aliveCountMax)
	}
	return c, nil
}

// jumpTarget returns the hop nearest the target of a ProxyJump list
// "[user@]host[:port],...": the last one, reached through the others.
func jumpTarget(v string) (SSHTarget, error) {
	hops := strings.Split(v, ",")
	t, err := ParseSSHTunnelSpec(strings.TrimSpace(hops[len(hops)-1]))
	if err != nil {
		return t, err
	}
	if len(hops) > 1 {
		t.Options = map[string]string{"ProxyJump": strings.Join(hops[:len(hops)-1], ",")}
	}
	return t, nil
}

var attemptedRE = regexp.MustCompile(`attempted methods \[([^\]]*)\]`)

func classifyHandshakeError(err error, hk *hostKeyChecker, auth *authSetup, s *sshSettings, addr string) error {
	var herr *HostKeyError
	if errors.As(err, &herr) {
		return herr
	}
	if aerr := algorithmError(err, s.alias, addr); aerr != nil {
		return aerr
	}
	if hk.err != nil {
		return hk.err
	}
	msg := err.Error()
	if m := attemptedRE.FindStringSubmatch(msg); m != nil || strings.Contains(msg, "unable to authenticate") ||
		strings.Contains(strings.ToLower(msg), "too many authentication failures") {
		methods := auth.triedMethods()
		if m != nil {
			methods = strings.Fields(m[1])
		}
		return &AuthError{User: s.user, Host: addr, Methods: methods, Err: err, Hints: auth.allHints()}
	}
	return fmt.Errorf("ssh: handshake with %s: %w", addr, err)
}

func (o *SSHOptions) fillDefaults() error {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return fmt.Errorf("ssh: %w", err)
		}
		o.Home = h
	}
	if o.ConfigFile == "" {
		o.ConfigFile = filepath.Join(o.Home, ".ssh", "config")
	}
	if o.LocalUser == "" {
		if u, err := user.Current(); err == nil {
			o.LocalUser = u.Username
		} else if u := os.Getenv("USER"); u != "" {
			o.LocalUser = u
		} else {
			return fmt.Errorf("ssh: cannot tell the local user name: %w", err)
		}
	}
	return nil
}

// DialContext opens a direct-tcpip channel to addr ("host:port", resolved
// by the SSH server) and returns it as a net.Conn. Its deadlines work by
// closing the channel when they pass (see channelConn). Closing the conn
// closes only the channel; the SSH connection stays up.
func (c *SSHClient) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := c.client.DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("ssh: open channel to %s via %s: %w", addr, c.addr, err)
	}
	return newChannelConn(conn), nil
}

// Close closes the SSH connection and every channel on it.
func (c *SSHClient) Close() error {
	var err error
	c.closeOnce.Do(func() {
		close(c.done)
		err = c.client.Close()
		if c.jump != nil {
			c.jump.Close()
		}
	})
	return err
}

// RemoteAddr returns the "host:port" the client is connected to.
func (c *SSHClient) RemoteAddr() string { return c.addr }

// User returns the remote user name the client logged in as.
func (c *SSHClient) User() string { return c.user }

// Client returns the underlying x/crypto/ssh client, e.g. to run commands.
func (c *SSHClient) Client() *ssh.Client { return c.client }

// Wait blocks until the SSH connection is closed.
func (c *SSHClient) Wait() error { return c.client.Wait() }

// StartKeepalive sends a keepalive@openssh.com request every interval, as
// ssh's ServerAliveInterval does, and closes the client when maxMissed
// requests in a row get no reply within the interval. Any reply, including
// a failure reply, counts as alive. DialSSH starts it when the ssh config
// sets ServerAliveInterval.
func (c *SSHClient) StartKeepalive(interval time.Duration, maxMissed int) {
	if interval <= 0 {
		return
	}
	if maxMissed <= 0 {
		maxMissed = 3
	}
	go func() {
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		missed := 0
		for {
			select {
			case <-c.done:
				return
			case <-ticker.C:
			}
			reply := make(chan error, 1)
			go func() {
				_, _, err := c.client.SendRequest("keepalive@openssh.com", true, nil)
				reply <- err
			}()
			select {
			case err := <-reply:
				if err != nil {
					return // the connection is gone
				}
				missed = 0
			case <-time.After(interval):
				missed++
				c.logger.Debug("ssh: keepalive unanswered", "addr", c.addr, "missed", missed)
				if missed >= maxMissed {
					c.logger.Warn("ssh: server not responding, closing connection", "addr", c.addr, "missed", missed)
					c.Close()
					return
				}
			case <-c.done:
				return
			}
		}
	}()
}

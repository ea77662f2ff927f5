package transport

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// SSHPlugin is a recognised fetchmail `plugin` command that runs ssh, in
// one of its two classic forms:
//
//	ssh [options] [user@]host -W mailhost:port    (a stdio forward)
//	ssh [options] [user@]host /path/to/popper ... (a remote command)
//
// The first becomes a direct-tcpip channel, the second an exec channel
// whose stdin and stdout carry the protocol, both on the in-process client.
type SSHPlugin struct {
	Target  SSHTarget
	Host    string   // -W host, "" for the command form
	Port    int      // -W port
	Command []string // the remote command, nil for the -W form
}

// ParseSSHPlugin recognises an ssh plugin command after %h and %p were
// substituted. As fetchmail does, it splits on whitespace without quoting.
// The ssh options accepted are those of ParseSSHForward, with -W in place
// of -L. Anything else returns an error wrapping ErrNotSSHForward.
func ParseSSHPlugin(cmd string) (*SSHPlugin, error) {
	words := strings.Fields(cmd)
	if len(words) == 0 || path.Base(words[0]) != "ssh" || (strings.Contains(words[0], "/") && !strings.HasPrefix(words[0], "/")) {
		return nil, fmt.Errorf("%w: not an ssh command", ErrNotSSHForward)
	}
	p := sshArgParser{f: &Forward{}, plugin: true}
	if err := p.parse(words[1:]); err != nil {
		return nil, err
	}
	out := &SSHPlugin{Target: p.f.Target, Command: p.f.Command}
	switch {
	case p.stdio != "" && len(out.Command) > 0:
		return nil, notFwd("both -W and a remote command")
	case p.stdio != "":
		h, ps, err := net.SplitHostPort(p.stdio)
		if err != nil {
			return nil, notFwd("bad -W %q: %v", p.stdio, err)
		}
		n, err := strconv.Atoi(ps)
		if err != nil || n <= 0 || n > 65535 {
			return nil, notFwd("bad -W port %q", ps)
		}
		out.Host, out.Port = h, n
	case len(out.Command) == 0:
		return nil, notFwd("neither -W nor a remote command")
	}
	return out, nil
}

// Exec runs command on the SSH server, as `ssh host command` does, and
// returns a connection over its stdin and stdout. The command's stderr
// goes to this process's stderr. Its deadlines work by closing the channel
// (see channelConn). Closing the conn ends the command's input and closes
// the channel; the SSH connection stays up.
func (c *SSHClient) Exec(ctx context.Context, command []string) (net.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	line := strings.Join(command, " ")
	sess, err := c.client.NewSession()
	if err != nil {
		return nil, fmt.Errorf("ssh: open session on %s: %w", c.addr, err)
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		sess.Close()
		return nil, fmt.Errorf("ssh: exec %q on %s: %w", line, c.addr, err)
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		sess.Close()
		return nil, fmt.Errorf("ssh: exec %q on %s: %w", line, c.addr, err)
	}
	sess.Stderr = execStderr
	if err := sess.Start(line); err != nil {
		sess.Close()
		return nil, fmt.Errorf("ssh: exec %q on %s: %w", line, c.addr, err)
	}
	return newChannelConn(&execConn{sess: sess, in: stdin, out: stdout, remote: execAddr(c.addr)}), nil
}

// execConn is a remote command's stdin and stdout as a net.Conn.
type execConn struct {
	sess   *ssh.Session
	in     io.WriteCloser
	out    io.Reader
	remote execAddr
	once   sync.Once
}

func (e *execConn) Read(p []byte) (int, error)  { return e.out.Read(p) }
func (e *execConn) Write(p []byte) (int, error) { return e.in.Write(p) }

// Close sends EOF to the command and closes the channel.
func (e *execConn) Close() error {
	e.once.Do(func() {
		e.in.Close()
		e.sess.Close()
	})
	return nil
}

func (e *execConn) LocalAddr() net.Addr                { return execAddr("local") }
func (e *execConn) RemoteAddr() net.Addr               { return e.remote }
func (e *execConn) SetDeadline(t time.Time) error      { return nil } // see channelConn
func (e *execConn) SetReadDeadline(t time.Time) error  { return nil }
func (e *execConn) SetWriteDeadline(t time.Time) error { return nil }

// execAddr names the SSH server an exec channel runs on.
type execAddr string

func (a execAddr) Network() string { return "ssh-exec" }
func (a execAddr) String() string  { return string(a) }

// execStderr receives remote commands' stderr (tests silence it).
var execStderr io.Writer = os.Stderr

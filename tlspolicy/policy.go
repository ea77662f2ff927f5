package tlspolicy

import (
	"errors"
	"fmt"
	"net"
	"path"
	"strings"

	"github.com/gofetchmail/gofetchmail/rcparse"
	"github.com/gofetchmail/gofetchmail/transport"
)

// This file is the one place that decides whether a poll must, may or must
// not use STLS (POP3, RFC 2595 section 4) or STARTTLS (IMAP, RFC 3501
// section 6.2.1), and whether a password may cross the connection in clear.
// POP3 and IMAP both ask MustSTLS, MayTrySTLS and Cleartext; each of them
// asks Path.ProtectedBySSH whether an SSH leg exempts the poll.

// Path is what the policy needs to know of how a poll's bytes travel
// (fetch's route).
type Path struct {
	Kind       string // "tcp", "ssh" (the in-process client) or "plugin"
	Host       string // the mail server as the transport sees it
	Port       int
	Exec       bool   // kind "ssh": an exec channel (the mail server runs on the SSH host)
	SSHHost    string // kind "ssh": the SSH server's host name as the user gave it
	Plugin     string // kind "plugin": the command, %h and %p substituted
	Preconnect string // a preconnect that runs through /bin/sh
}

// ProtectedBySSH reports whether SSH carries the protocol all the way to
// the mail server, so that neither TLS nor the cleartext refusal is needed:
//
//   - an exec channel or an ssh plugin running a command: the mail server is
//     a process on the SSH host itself;
//   - a direct-tcpip channel (sshtunnel, a translated `ssh -L` preconnect, a
//     translated `ssh -W` plugin) or an untranslated `ssh -W` plugin whose
//     forward target is the SSH host itself: its name as given, or a
//     loopback name or address, which is the SSH host as seen from it.
//
// Any other forward target is a mail server reached from the SSH host over
// a network the user does not control: the bytes leave the SSH channel in
// clear there, so fetchmail's STLS rules and the cleartext refusal apply as
// for TCP (issue 14).
func (r Path) ProtectedBySSH() bool {
	switch r.Kind {
	case "ssh":
		return r.Exec || sshHostItself(r.Host, r.SSHHost)
	case "plugin":
		return sshPluginProtects(r.Plugin)
	}
	return false
}

// sshHostItself reports whether target, a host name as the SSH server
// resolves it, names the SSH server: loopback, or the SSH host's name as
// the user gave it (case and a final dot ignored).
func sshHostItself(target, sshHost string) bool {
	if transport.IsLoopbackHost(target) {
		return true
	}
	norm := func(h string) string {
		return strings.ToLower(strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"), "."))
	}
	return target != "" && norm(target) == norm(sshHost)
}

// sshPluginProtects applies ProtectedBySSH to a plugin command run as a
// process: one that is not ssh protects nothing; an ssh command without -W
// runs its command on the SSH host; one with -W protects only a forward to
// the SSH host itself. A -W whose destination cannot be read (options the
// parser does not know) protects only a loopback target.
func sshPluginProtects(cmd string) bool {
	words := strings.Fields(cmd)
	if len(words) == 0 || path.Base(words[0]) != "ssh" {
		return false
	}
	if p, err := transport.ParseSSHPlugin(cmd); err == nil {
		return p.Command != nil || sshHostItself(p.Host, p.Target.Host)
	}
	stdio := ""
	for i, w := range words[1:] {
		switch {
		case w == "-W" && i+2 < len(words):
			stdio = words[i+2]
		case strings.HasPrefix(w, "-W") && len(w) > 2:
			stdio = w[2:]
		}
	}
	if stdio == "" {
		return true // no forward: a command on the SSH host
	}
	host, _, err := net.SplitHostPort(stdio)
	return err == nil && transport.IsLoopbackHost(host)
}

// ForwardsElsewhere reports whether a TCP route goes to the local end of
// an `ssh -L` forward (run by the shell: --no-builtin-ssh, or a setup the
// in-process client cannot do) whose far end is not the SSH host: the
// connection is to loopback, but the password would leave the SSH host in
// clear.
func (r Path) ForwardsElsewhere() bool {
	if r.Kind != "tcp" || r.Preconnect == "" {
		return false
	}
	f, err := transport.ParseSSHForward(r.Preconnect)
	return err == nil && f.Matches(r.Host, r.Port) && !sshHostItself(f.RemoteHost, f.Target.Host)
}

// MustSTLS is fetchmail 6.4's rule: STLS (or STARTTLS) is mandatory when
// ssl is off, sslproto is not the empty string and certificate checking
// (or a fingerprint, or an explicit sslproto) is on. SSH that reaches the
// mail server itself (ProtectedBySSH) is exempt: its bytes are encrypted
// and the server authenticated by its host key.
func MustSTLS(u *rcparse.User, r Path) bool {
	if u.SSL || r.ProtectedBySSH() {
		return false
	}
	if u.SSLProto != nil && *u.SSLProto == "" {
		return false
	}
	return u.SSLCertck || u.SSLFingerprint != nil || (u.SSLProto != nil && *u.SSLProto != "")
}

// MayTrySTLS is fetchmail's opportunistic case: TLS is not mandatory but
// not switched off with sslproto "" either, so STLS is used if offered.
func MayTrySTLS(u *rcparse.User, r Path) bool {
	if u.SSL || r.ProtectedBySSH() {
		return false
	}
	return u.SSLProto == nil || *u.SSLProto != ""
}

// Cleartext refuses to send a password (or token) in clear over a network:
// it is allowed inside TLS (encrypted), inside SSH that reaches the mail
// server itself (ProtectedBySSH), over TCP (conn) to a loopback address
// that is not the local end of an ssh -L forward to another host, or when
// the rc file says sslproto "" (plain text on purpose). A refusal wraps
// ErrCleartext and says, for server reached by the way describe names,
// what to put in the rc file; upgrade is the protocol's command for TLS
// (STLS for POP3, STARTTLS for IMAP).
func Cleartext(u *rcparse.User, r Path, encrypted bool, conn net.Conn, server, describe, upgrade string) error {
	switch {
	case encrypted, r.ProtectedBySSH():
		return nil
	case u.SSLProto != nil && *u.SSLProto == "":
		return nil
	case r.Kind == "tcp" && isLoopbackConn(conn) && !r.ForwardsElsewhere():
		return nil
	}
	why := "the server offers no " + upgrade
	if u.SSLProto == nil && !u.SSLCertck {
		why += " and sslcertck is off"
	}
	how := "without TLS or SSH"
	if r.Kind != "tcp" || r.ForwardsElsewhere() {
		how = "through an SSH host that is not the mail server (the last hop is in clear), without TLS"
	}
	return fmt.Errorf("%w: %s is reached %s %s and %s; use ssl, sslcertck (%s), an sshtunnel to the mail server itself, or add sslproto '' to the rc file to send it in plain text on purpose",
		ErrCleartext, server, describe, how, why, upgrade)
}

// ErrCleartext is the cause when a password would cross a network in clear.
var ErrCleartext = errors.New("refusing to send the password in clear")

func isLoopbackConn(c net.Conn) bool {
	if c == nil {
		return false
	}
	a, ok := c.RemoteAddr().(*net.TCPAddr)
	return ok && a.IP.IsLoopback()
}

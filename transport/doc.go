// Package transport gets bytes to and from the mail server.
//
// It offers four ways to reach a server:
//
//   - DialTCP, a plain TCP connection;
//   - DialCommand, fetchmail's `plugin`: a child process whose stdin and
//     stdout carry the session;
//   - RunShell, fetchmail's `preconnect` and `postconnect` shell commands;
//   - DialSSH and SSHClient.DialContext, an in-process SSH client that opens
//     direct-tcpip channels ("ssh -L" without a local port or ssh process).
//
// ParseSSHForward recognises the classic preconnect idiom
//
//	preconnect "ssh -C -f user@popserver -L 11110:popserver:110 sleep 5"
//
// and Forward.Matches tells whether a poll of localhost:11110 is the local end
// of that forward, so the caller can replace the ssh process by DialForward:
// DialSSH plus a direct-tcpip channel to popserver:110. Commands it does not
// recognise return ErrNotSSHForward and should run through RunShell as
// fetchmail would.
//
// SSH settings are resolved the way OpenSSH resolves them: command-line
// options first (the first -l/-p/user@ given wins), then ~/.ssh/config
// (HostName, User, Port, IdentityFile, IdentitiesOnly, IdentityAgent,
// UserKnownHostsFile, GlobalKnownHostsFile, StrictHostKeyChecking,
// HostKeyAlias, ConnectTimeout, ServerAliveInterval, ProxyJump, BatchMode,
// PasswordAuthentication). ProxyJump is followed in-process; ProxyCommand
// and unparsable configs (Match exec) give an error wrapping ErrUnsupported.
// Host keys are checked against known_hosts; unknown and changed keys are
// refused with a *HostKeyError unless StrictHostKeyChecking allows recording
// a new key. Authentication tries ssh-agent, identity files and, when a
// prompt is available, the password; a failure is an *AuthError.
//
// Package sshtest provides an in-process SSH server for tests and demos.
package transport

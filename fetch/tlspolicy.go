package fetch

import (
	"github.com/gofetchmail/gofetchmail/rcparse"
	"github.com/gofetchmail/gofetchmail/tlspolicy"
)

// The calls into package tlspolicy, the one place that decides TLS and
// cleartext, for POP3 and IMAP alike.

// path is the route as tlspolicy sees it.
func (r *route) path() tlspolicy.Path {
	return tlspolicy.Path{Kind: r.kind, Host: r.host, Port: r.port, Exec: r.exec != nil,
		SSHHost: r.sshTarget.Host, Plugin: r.plugin, Preconnect: r.preconnect}
}

// protectedBySSH: see tlspolicy.Path.ProtectedBySSH.
func (r *route) protectedBySSH() bool { return r.path().ProtectedBySSH() }

// forwardsElsewhere: see tlspolicy.Path.ForwardsElsewhere.
func (r *route) forwardsElsewhere() bool { return r.path().ForwardsElsewhere() }

func mustSTLS(u *rcparse.User, r *route) bool   { return tlspolicy.MustSTLS(u, r.path()) }
func mayTrySTLS(u *rcparse.User, r *route) bool { return tlspolicy.MayTrySTLS(u, r.path()) }

// clearOK is tlspolicy.Cleartext for the session: nil, or an
// authentication failure that says why and what to do.
func (s *session) clearOK() error {
	err := tlspolicy.Cleartext(s.job.User, s.route.path(), s.encrypted(), s.conn, queryName(s.job.Server), s.route.describe(), s.startTLSName())
	if err != nil {
		return s.authErr(err)
	}
	return nil
}

// ErrCleartext is the cause when a password would cross a network in clear.
var ErrCleartext = tlspolicy.ErrCleartext

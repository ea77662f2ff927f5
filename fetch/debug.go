package fetch

import (
	"crypto/tls"
	"fmt"
	"time"

	"github.com/gofetchmail/gofetchmail/deliver"
	"github.com/gofetchmail/gofetchmail/mailbox"
	"github.com/gofetchmail/gofetchmail/tlspolicy"
	"github.com/gofetchmail/gofetchmail/transport"
)

// -v -v: fetchmail's second -v adds diagnostics to the protocol trace of
// the first: the UID lists and what each message is taken for, how the
// transport was set up, and what delivery does. The lines here are that
// second level. None of them carries a secret: passwords and tokens are
// named by their source, never shown.

// debugOn reports whether -v -v asked for the extra diagnostics.
func (o *Options) debugOn() bool { return o.Verbose >= 2 }

// debugf logs one -v -v line.
func debugf(o *Options, format string, args ...any) {
	if o.debugOn() {
		o.logger().Debug(fmt.Sprintf(format, args...))
	}
}

// debugDelivery shows where one message goes.
func (s *session) debugDelivery(m message, env deliver.Envelope) {
	if !s.opts.debugOn() {
		return // per message: not even the arguments are boxed
	}
	debugf(s.opts, "about to deliver message %d (UID %s) to %s: envelope from <%s> to %v", m.ID(), mailbox.ShownUID(m.Entry), s.dlv, env.From, env.To)
}

// debugRecorded shows a batch made durable and recorded in the idfile.
func (s *session) debugRecorded(n int) {
	debugf(s.opts, "%d deliveries made durable (fsync) and their UIDs written to %s", n, s.uids.Path())
}

// debugTLS shows the negotiated TLS session and the server's chain.
func (s *session) debugTLS(cs tls.ConnectionState) {
	if !s.opts.debugOn() {
		return
	}
	debugf(s.opts, "TLS: %s, cipher suite %s, resumed %v", tls.VersionName(cs.Version), tls.CipherSuiteName(cs.CipherSuite), cs.DidResume)
	for i, c := range cs.PeerCertificates {
		debugf(s.opts, "TLS: certificate depth %d: subject %s, issuer %s, valid %s to %s, SHA256:%s",
			i, c.Subject.String(), c.Issuer.String(), c.NotBefore.UTC().Format(time.DateOnly), c.NotAfter.UTC().Format(time.DateOnly), tlspolicy.Fingerprint(c, true))
	}
}

// debugSSH shows the SSH connection a channel is opened on.
func debugSSH(o *Options, c *transport.SSHClient, reused bool) {
	if !o.debugOn() {
		return
	}
	how := "new connection"
	if reused {
		how = "connection kept from an earlier poll"
	}
	sc := c.Client()
	debugf(o, "SSH: %s to %s as %s; server %q, client %q", how, c.RemoteAddr(), c.User(), sc.ServerVersion(), sc.ClientVersion())
}

// debugChannel shows the SSH channel a poll runs in.
func debugChannel(o *Options, r *route) {
	if r.exec != nil {
		debugf(o, "SSH: exec channel opened, remote command %q", r.exec)
		return
	}
	debugf(o, "SSH: direct-tcpip channel opened to %s:%d", r.host, r.port)
}

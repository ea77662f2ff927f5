package fetch

import (
	"crypto/tls"
	"fmt"
	"strconv"
	"time"

	"github.com/gofetchmail/gofetchmail/deliver"
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

// shownUID is how a log line shows a server's UID: as it is when it is an
// RFC 1939 one, else Go-quoted in ASCII, so that a UID holding a line break,
// NEL or U+2028 cannot start a forged line in the log.
func shownUID(uid string) string {
	if uid == "" {
		return "(none)"
	}
	for i := 0; i < len(uid); i++ {
		if uid[i] < 0x21 || uid[i] > 0x7e || uid[i] == '"' {
			return strconv.QuoteToASCII(uid)
		}
	}
	return uid
}

// debugUIDListMax caps the UIDs -v -v lists by name; the rest are counted.
const debugUIDListMax = 100

// debugUIDs shows, as fetchmail's -v -v does, the UIDs the idfile knows
// for the account and what each listed message is taken for. Only the
// messages to fetch (fresh) have been sized.
func (s *session) debugUIDs(msgs, old, fresh []message) {
	if !s.opts.debugOn() {
		return
	}
	debugf(s.opts, "UID list for %s: %d UIDs of messages on the server are known", s.key, s.uids.Len(s.key))
	seen := make(map[msgNum]bool, len(old))
	for _, m := range old {
		seen[m.num] = true
	}
	size := make(map[msgNum]int64, len(fresh))
	for _, m := range fresh {
		size[m.num] = m.size
	}
	for i, m := range msgs {
		if i == debugUIDListMax {
			debugf(s.opts, "... and %d more messages", len(msgs)-i)
			break
		}
		uid := shownUID(m.uid)
		if n, ok := size[m.num]; ok {
			debugf(s.opts, "%d is unseen (UID %s, %d octets)", m.num, uid, n)
		} else if seen[m.num] {
			debugf(s.opts, "%d is seen (UID %s)", m.num, uid)
		} else {
			debugf(s.opts, "%d was handled by an earlier session of this poll (UID %s)", m.num, uid)
		}
	}
}

// debugDelivery shows where one message goes.
func (s *session) debugDelivery(m message, env deliver.Envelope) {
	if !s.opts.debugOn() {
		return // per message: not even the arguments are boxed
	}
	debugf(s.opts, "about to deliver message %d (UID %s) to %s: envelope from <%s> to %v", m.id(), shownUID(m.uid), s.dlv, env.From, env.To)
}

// debugRecorded shows a batch made durable and recorded in the idfile.
func (s *session) debugRecorded(n int) {
	debugf(s.opts, "%d deliveries made durable (fsync) and their UIDs written to %s", n, s.uids.Path())
}

// debugQuit shows the UID list the poll leaves for the account.
func (s *session) debugQuit(forgotten int) {
	debugf(s.opts, "new UID list for %s: %d UIDs kept, %d of deleted messages forgotten", s.key, s.uids.Len(s.key), forgotten)
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

package fetch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gofetchmail/gofetchmail/deliver"
	"github.com/gofetchmail/gofetchmail/imap"
	"github.com/gofetchmail/gofetchmail/mailbox/imapbox"
	"github.com/gofetchmail/gofetchmail/pop3"
	"github.com/gofetchmail/gofetchmail/tlspolicy"
	"github.com/gofetchmail/gofetchmail/transport"
)

// The read-only probe behind "gofetchmail doctor" (package doctor). It
// walks one account's path the way a poll does — route, TLS, login,
// mailbox — through the same internals (chooseRoute, the SSH dialer,
// implicitTLS/startTLS, authenticate), reporting each step, and stops at
// the first that fails. It changes nothing on the server: POP3 gets only
// CAPA, STLS, the login, STAT, UIDL and QUIT (no RETR, TOP or DELE); IMAP
// gets EXAMINE (RFC 3501 section 6.3.2: read-only, \Recent and \Seen
// untouched), UID SEARCH and LOGOUT. The idfile is only read. A shell
// preconnect is never run: only the ssh -L forward it is translated to.

// ProbeStep is the outcome of one checked step.
type ProbeStep struct {
	Name   string // "route", "dns", "tcp", "ssh", "channel", "plugin", "preconnect", "tls", "login", "mailbox"
	OK     bool
	Detail string // what was found, or what is wrong; never a secret
	Fix    string // when !OK: the next thing to try
	Status Status // when !OK: fetchmail's exit status of the failure
}

// ProbeResult is what the probe learnt about an account that passed.
type ProbeResult struct {
	Messages int   // on the server (all folders for IMAP)
	Octets   int64 // their size, when the server says (POP3 STAT)
	New      int   // not in the idfile: what the next poll would fetch
}

// Probe checks j read-only and calls report once per step, in order; it
// returns false at the first failing step (reported with OK false), true
// when the account can be polled.
func Probe(ctx context.Context, j Job, uids *UIDStore, opts Options, report func(ProbeStep)) (ProbeResult, bool) {
	s := &session{job: j, opts: &opts, uids: uids, label: j.Label()}
	s.key = AccountKey(j.User.Remotename, queryName(j.Server))
	p := &prober{s: s, report: report}
	d := newDialer(&opts)
	defer d.close()
	switch proto := strings.ToUpper(j.Server.Protocol); proto {
	case "IMAP":
		p.imap(ctx, d, false)
	case "AUTO", "":
		p.imap(ctx, d, true)
	case "POP3", "APOP":
		p.pop3(ctx, d)
	default:
		p.fail("route", StatusProtocol, fmt.Sprintf("protocol %s is not supported by gofetchmail", j.Server.Protocol),
			"use protocol pop3, apop, imap or auto (docs/migrating-from-fetchmail.md)")
	}
	return p.res, !p.failed
}

type prober struct {
	s      *session
	report func(ProbeStep)
	res    ProbeResult
	failed bool
}

func (p *prober) ok(name, detail string) { p.report(ProbeStep{Name: name, OK: true, Detail: detail}) }

func (p *prober) fail(name string, st Status, detail, fix string) {
	p.failed = true
	p.report(ProbeStep{Name: name, Detail: detail, Fix: fix, Status: st})
}

// failErr reports err (its status as a poll would map it) with fix.
func (p *prober) failErr(name string, err error, fix string) {
	st := StatusOf(err)
	if st == StatusSuccess || st == StatusUndefined {
		st = StatusSocket
	}
	p.fail(name, st, p.scrub(errText(err)), fix)
}

// errText is an error without the "poll label:" prefix of *Error.
func errText(err error) string {
	var fe *Error
	if errors.As(err, &fe) && fe.Err != nil {
		return fe.Err.Error()
	}
	return err.Error()
}

// scrub masks the entry's rc-file password should a message carry it.
func (p *prober) scrub(msg string) string {
	if u := p.s.job.User; u.Password != nil && *u.Password != "" {
		msg = strings.ReplaceAll(msg, *u.Password, "*****")
	}
	return msg
}

// connect runs the route steps and returns the open byte stream to the
// mail server (nil after a reported failure). fallback is set for
// protocol auto's IMAP attempt: a refused connection is then not a
// failure but the cue to try POP3 (reported by the caller).
func (p *prober) connect(ctx context.Context, d *dialer, r *route, fallback bool) (net.Conn, error) {
	s := p.s
	timeout := s.timeout()
	if r.preconnect != "" {
		// Not run: doctor is read-only and a shell command may do anything.
		p.ok("preconnect", fmt.Sprintf("a poll first runs through /bin/sh: %s (not run by doctor)", r.preconnect))
	}
	switch r.kind {
	case "plugin":
		p.ok("plugin", "the connection is the command: "+r.plugin)
		conn, err := transport.DialCommand(ctx, r.plugin)
		if err != nil {
			p.failErr("plugin", err, "run the command by hand: it must speak to the mail server on its standard input and output")
			return nil, nil
		}
		return conn, nil
	case "ssh":
		return p.sshConnect(ctx, d, r, timeout)
	}
	addr := net.JoinHostPort(r.host, strconv.Itoa(r.port))
	if net.ParseIP(r.host) == nil {
		lctx, cancel := context.WithTimeout(ctx, timeout)
		ips, err := net.DefaultResolver.LookupHost(lctx, r.host)
		cancel()
		if err != nil {
			p.fail("dns", StatusSocket, fmt.Sprintf("cannot resolve %s: %v", r.host, err),
				"check the spelling of the poll name (or via) and your resolver: getent hosts "+r.host)
			return nil, nil
		}
		p.ok("dns", fmt.Sprintf("%s is %s", r.host, strings.Join(ips, ", ")))
	}
	conn, err := transport.DialTCP(ctx, addr, timeout)
	if err != nil {
		if fallback {
			return nil, err
		}
		fix := "is the server up and is " + strconv.Itoa(r.port) + " its port? try: nc -v " + r.host + " " + strconv.Itoa(r.port)
		if r.preconnect != "" {
			fix = "the preconnect command was not run by doctor: run it by hand, then doctor again"
		}
		p.fail("tcp", StatusSocket, err.Error(), fix)
		return nil, nil
	}
	p.ok("tcp", "connected to "+addr)
	return conn, nil
}

// sshConnect is the ssh part of dialer.dial, step by step: the SSH host
// (known_hosts, authentication), then the channel to the mail server.
func (p *prober) sshConnect(ctx context.Context, d *dialer, r *route, timeout time.Duration) (net.Conn, error) {
	t := r.sshTarget
	who := t.Host
	if t.User != "" {
		who = t.User + "@" + who
	}
	if t.Port != 0 {
		who += ":" + strconv.Itoa(t.Port)
	}
	c, reused := d.clients[sshKey(t)]
	var err error
	if !reused {
		c, err = transport.DialSSH(ctx, t, transport.SSHOptions{
			Home:           d.opts.Home,
			Password:       d.opts.Password,
			Logger:         d.opts.logger(),
			ConnectTimeout: timeout,
		})
	}
	var (
		hk *transport.HostKeyError
		ae *transport.AuthError
	)
	switch {
	case errors.Is(err, transport.ErrUnsupported):
		fix := "this ssh setup needs the real ssh, which doctor does not run; check it by hand: ssh " + t.Host + " true"
		p.fail("ssh", StatusSocket, "the in-process SSH client cannot do this ssh setup: "+err.Error(), fix)
		return nil, nil
	case errors.As(err, &hk):
		fix := "check the key's fingerprint with the server's administrator, then connect once with ssh to record it"
		if hk.Kind == "changed" {
			fix = "find out why the key changed before anything else; then remove the old key with ssh-keygen -R"
		}
		p.fail("ssh", StatusSocket, err.Error(), fix)
		return nil, nil
	case errors.As(err, &ae):
		p.fail("ssh", StatusAuthFail, err.Error(), "check that `ssh "+who+" true` logs in without a prompt (ssh-add, or the IdentityFile in ~/.ssh/config)")
		return nil, nil
	case err != nil:
		p.fail("ssh", StatusSocket, err.Error(), "check that the SSH server answers: ssh -v "+who+" true")
		return nil, nil
	}
	d.clients[sshKey(t)] = c // closed with the dialer, reused by protocol auto's POP3
	how := map[string]string{"preconnect": "the preconnect ssh -L, run in-process", "plugin": "the ssh plugin, run in-process"}[r.sshFrom]
	if how == "" {
		how = "sshtunnel"
	}
	with := c.Identity()
	if with == "" {
		with = "no credentials (the server asked none)"
	}
	p.ok("ssh", fmt.Sprintf("host key known, logged in to %s as %s with %s (%s)", c.RemoteAddr(), c.User(), with, how))
	var conn net.Conn
	if r.exec != nil {
		conn, err = c.Exec(ctx, r.exec)
	} else {
		conn, err = c.DialContext(ctx, "tcp", net.JoinHostPort(r.host, strconv.Itoa(r.port)))
	}
	if err != nil {
		p.fail("channel", StatusSocket, fmt.Sprintf("the SSH server %s refused the channel: %v", c.RemoteAddr(), err),
			"the SSH server must allow TCP forwarding (AllowTcpForwarding) to "+net.JoinHostPort(r.host, strconv.Itoa(r.port))+", and the mail server must listen there")
		return nil, nil
	}
	if r.exec != nil {
		p.ok("channel", "exec channel running "+strings.Join(r.exec, " "))
	} else {
		p.ok("channel", "channel to "+net.JoinHostPort(r.host, strconv.Itoa(r.port))+" through "+c.RemoteAddr())
	}
	return conn, nil
}

// describeTLS is the TLS step's line for an established connection: the
// version, who the certificate is for and by whom, its expiry, whether
// sslcertck/sslfingerprint checked it and, if not, what would have been
// said and what line pins it.
func (p *prober) describeTLS(how string, cs tls.ConnectionState) {
	u, srv := p.s.job.User, p.s.job.Server
	if len(cs.PeerCertificates) == 0 {
		p.ok("tls", how+" ("+tls.VersionName(cs.Version)+"), no certificate")
		return
	}
	leaf := cs.PeerCertificates[0]
	line := fmt.Sprintf("%s (%s), certificate for %s issued by %q", how, tls.VersionName(cs.Version),
		strings.Join(tlspolicy.CertNames(leaf), ", "), leaf.Issuer.String())
	days := int(time.Until(leaf.NotAfter).Hours() / 24)
	if days < 30 {
		line += fmt.Sprintf(", EXPIRES in %d days (%s): ask the provider to renew it", days, leaf.NotAfter.UTC().Format("2006-01-02"))
	} else {
		line += ", valid until " + leaf.NotAfter.UTC().Format("2006-01-02")
	}
	switch {
	case u.SSLFingerprint != nil && *u.SSLFingerprint != "":
		line += "; matches sslfingerprint"
	case u.SSLCertck:
		line += "; chain and name checked (sslcertck)"
	default:
		host := queryName(srv)
		name := host
		if u.SSLCommonname != nil && *u.SSLCommonname != "" {
			name = *u.SSLCommonname
		}
		err := tlspolicy.Verify(cs, host, name, u)
		var ce *tlspolicy.CertError
		if errors.As(err, &ce) {
			line += "; NOT checked (no sslcertck), and sslcertck would refuse it: " + ce.Error()
		} else {
			line += `; NOT checked (no sslcertck), though it would pass: add sslcertck, or pin it: sslfingerprint "SHA256:` + tlspolicy.Fingerprint(leaf, true) + `"`
		}
	}
	p.ok("tls", line)
}

// tlsFix is the next thing to try after a failed TLS step.
func tlsFix(err error) string {
	var ce *tlspolicy.CertError
	if errors.As(err, &ce) {
		return "compare the fingerprint with the one your provider publishes, then add the rc line above (docs/tls-and-auth.md)"
	}
	if errors.Is(err, errTLSUpgrade) {
		return "use ssl (implicit TLS, ports 995/993) if the server has it; docs/tls-and-auth.md"
	}
	return "check the port speaks TLS from the first byte (ssl) or plain text (STLS/STARTTLS): openssl s_client -connect HOST:PORT"
}

// loginFix is the next thing to try after a failed login.
func loginFix(err error) string {
	switch StatusOf(err) {
	case StatusAuthFail:
		return "check the user name and the password (password, passwordfile, ~/.netrc) by logging in with a mail client; gofetchmail -v -c shows the dialogue with the password masked"
	case StatusLockBusy:
		return "another client holds the mailbox; try again later"
	}
	return "run gofetchmail -v -c to see the dialogue"
}

func (p *prober) pop3(ctx context.Context, d *dialer) {
	s := p.s
	u := s.job.User
	r, err := chooseRoute(s.job.Server, u, s.opts)
	if err != nil {
		p.failErr("route", err, "fix the entry in the rc file")
		return
	}
	s.route = r
	p.ok("route", "POP3 "+r.describe())
	conn, _ := p.connect(ctx, d, r, false)
	if conn == nil {
		return
	}
	s.conn = conn
	if u.SSL {
		if conn, err = s.implicitTLS(ctx, conn); err != nil {
			p.failErr("tls", err, tlsFix(err))
			return
		}
		p.describeTLS("implicit TLS", conn.(*tls.Conn).ConnectionState())
	}
	s.client = pop3.NewClient(conn, &pop3.Options{Timeout: s.timeout()})
	defer s.client.Close()
	greeting, err := s.client.Greeting(ctx)
	if err != nil {
		p.failErr("login", err, "is this port a POP3 server? (imap is 143/993, pop3 110/995)")
		return
	}
	caps, err := s.client.Capa(ctx)
	if err != nil {
		p.failErr("login", err, "run gofetchmail -v -c to see the dialogue")
		return
	}
	if mustSTLS(u, r) || (mayTrySTLS(u, r) && caps.Has("STLS")) {
		if err := s.startTLS(ctx, caps); err != nil {
			p.failErr("tls", err, tlsFix(err))
			return
		}
		p.describeTLS("STLS", s.client.Conn().(*tls.Conn).ConnectionState())
		if caps, err = s.client.Capa(ctx); err != nil {
			p.failErr("login", err, "run gofetchmail -v -c to see the dialogue")
			return
		}
	} else if !u.SSL {
		p.ok("tls", "none: "+plainReason(r, caps.Has("STLS")))
	}
	s.caps = caps
	var offered []string
	if l := caps["SASL"]; len(l) > 0 {
		offered = append(offered, "SASL "+strings.Join(l, " "))
	}
	if caps.Has("USER") || len(caps) == 0 {
		offered = append(offered, "USER/PASS")
	}
	if strings.Contains(greeting, "<") {
		offered = append(offered, "APOP")
	}
	plan := s.planLine(&pop3Login{c: s.client, caps: caps, apopProto: strings.EqualFold(s.job.Server.Protocol, "APOP")})
	if err := s.authenticate(ctx, caps); err != nil {
		p.failErr("login", err, loginFix(err))
		return
	}
	p.ok("login", fmt.Sprintf("logged in as %s; the server offers %s; gofetchmail uses %s", u.Remotename, listOr(offered), plan))
	count, total, err := s.client.Stat(ctx)
	if err != nil {
		p.failErr("mailbox", err, "run gofetchmail -v -c to see the dialogue")
		return
	}
	p.res.Messages, p.res.Octets = count, total
	newCount := count
	note := ""
	if count > 0 {
		list, err := s.client.UIDL(ctx)
		var pe *pop3.Error
		switch {
		case errors.As(err, &pe):
			note = " (the server has no UIDL: which are new is decided by the poll)"
		case err != nil:
			p.failErr("mailbox", err, "run gofetchmail -v -c to see the dialogue")
			return
		default:
			ids := make([]string, len(list))
			for i, x := range list {
				ids[i] = x.UID
			}
			seen, _ := s.uids.Lookup(s.key, ids)
			newCount = 0
			for _, k := range seen {
				if !k || u.Fetchall {
					newCount++
				}
			}
		}
	}
	p.res.New = newCount
	if old := count - newCount; note == "" && old > 0 && (!u.Keep || u.Flush) {
		note = fmt.Sprintf("; the next poll deletes the %d already delivered (no keep; fetchmail would leave them unless flush)", old)
	}
	p.ok("mailbox", fmt.Sprintf("%d messages (%d octets), %d new to %s%s", count, total, newCount, idfileName(s.uids), note))
	s.client.Quit(ctx) // nothing was marked: QUIT deletes nothing
}

// plainReason says why a session without TLS is allowed.
func plainReason(r *route, stlsOffered bool) string {
	switch {
	case r.protectedBySSH():
		return "the session runs inside SSH to the mail server itself"
	case stlsOffered:
		return "sslproto '' in the rc file forbids STLS"
	}
	return "the server offers no STLS (sslproto '' allows plain text)"
}

func listOr(l []string) string {
	if len(l) == 0 {
		return "no login method it names"
	}
	return strings.Join(l, ", ")
}

func idfileName(u *UIDStore) string {
	if u == nil || u.Path() == "" {
		return "the idfile"
	}
	return u.Path()
}

// imap probes over IMAP; with auto, a server that does not answer IMAP
// sends the probe to POP3 as a poll would.
func (p *prober) imap(ctx context.Context, d *dialer, auto bool) {
	s := p.s
	u := s.job.User
	r, err := s.imapRoute()
	if err != nil {
		p.failErr("route", err, "fix the entry in the rc file")
		return
	}
	s.route = r
	if auto {
		p.ok("route", "IMAP (protocol auto: POP3 if no IMAP server answers) "+r.describe())
	} else {
		p.ok("route", "IMAP "+r.describe())
	}
	conn, derr := p.connect(ctx, d, r, auto && r.kind == "tcp")
	if derr != nil { // auto: nothing answers on the IMAP port
		p.ok("route", "protocol auto: no IMAP server at "+net.JoinHostPort(r.host, strconv.Itoa(r.port))+"; POP3 then")
		p.pop3(ctx, d)
		return
	}
	if conn == nil {
		return
	}
	s.conn = conn
	how := ""
	if u.SSL {
		if conn, err = s.implicitTLS(ctx, conn); err != nil {
			p.failErr("tls", err, tlsFix(err))
			return
		}
		p.describeTLS("implicit TLS", conn.(*tls.Conn).ConnectionState())
		how = "ssl"
	}
	sess, err := imap.Open(ctx, conn, &imap.Options{Timeout: s.timeout()})
	var pe *imap.ProtocolError
	if err != nil && auto && (errors.As(err, &pe) || errors.Is(err, io.ErrUnexpectedEOF)) {
		conn.Close()
		p.ok("route", "protocol auto: the server there does not greet as IMAP ("+err.Error()+"); POP3 then")
		s.route, s.conn = nil, nil
		p.pop3(ctx, d)
		return
	}
	if err != nil {
		conn.Close()
		p.failErr("login", err, "is this port an IMAP server? (pop3 is 110/995, imap 143/993)")
		return
	}
	s.imap = sess
	s.conn = sess.Conn()
	defer sess.Close()
	if err := s.imapStartTLS(ctx); err != nil {
		p.failErr("tls", err, tlsFix(err))
		return
	}
	if tc, ok := sess.Conn().(*tls.Conn); ok && how == "" {
		p.describeTLS("STARTTLS", tc.ConnectionState())
	} else if how == "" {
		p.ok("tls", "none: "+plainReason(r, false))
	}
	if sess.PreAuth() {
		p.ok("login", "the server greeted with PREAUTH: already logged in, no credentials sent")
	} else {
		caps, err := sess.Caps(ctx)
		if err != nil {
			p.failErr("login", err, "run gofetchmail -v -c to see the dialogue")
			return
		}
		var offered, sasl []string
		for _, m := range []string{"CRAM-MD5", "PLAIN", "LOGIN", "OAUTHBEARER", "XOAUTH2", "EXTERNAL"} {
			if caps.SASL(m) {
				sasl = append(sasl, m)
			}
		}
		if len(sasl) > 0 {
			offered = append(offered, "SASL "+strings.Join(sasl, " "))
		}
		if !caps.Has("LOGINDISABLED") {
			offered = append(offered, "the LOGIN command")
		}
		plan := s.planLine(&imapLogin{sess: s.imap, caps: caps})
		if err := s.imapAuthenticate(ctx, caps); err != nil {
			p.failErr("login", err, loginFix(err))
			return
		}
		p.ok("login", fmt.Sprintf("logged in as %s; the server offers %s; gofetchmail uses %s", u.Remotename, listOr(offered), plan))
	}
	folders := u.Mailboxes
	if len(folders) == 0 {
		folders = []string{"INBOX"}
	}
	for _, f := range folders {
		mb, err := sess.Select(ctx, f, true) // EXAMINE: read-only
		if err != nil {
			p.failErr("mailbox", err, "check the folder name (folder in the rc file); a mail client lists the folders")
			return
		}
		fresh, err := p.imapNew(ctx, f, mb)
		if err != nil {
			p.failErr("mailbox", err, "run gofetchmail -v -c to see the dialogue")
			return
		}
		p.res.Messages += int(mb.Exists)
		p.res.New += fresh
		p.ok("mailbox", fmt.Sprintf("folder %s: %d messages, %d new to %s", f, mb.Exists, fresh, idfileName(s.uids)))
	}
	sess.Logout(ctx)
}

// imapNew counts the messages of an EXAMINEd folder a poll would fetch
// (imapbox.CountNew), without changing anything.
func (p *prober) imapNew(ctx context.Context, folder string, mb *imap.Mailbox) (int, error) {
	s := p.s
	u := s.job.User
	key := imapbox.StateKey(AccountKey(u.Remotename, queryName(s.job.Server)), folder)
	return imapbox.CountNew(ctx, s.imap, s.uids, key, mb, u.Fetchall)
}

// ProbeTarget says where a poll of j would deliver, as openTarget decides,
// without opening anything: Kind is "maildir", "mbox", "bsmtp", "mda",
// "smtp", "lmtp", or "default" (SMTP to localhost, else the local
// mailbox); Where is the path, command or the SMTP hosts; Plugout the
// plugout command SMTP goes through, if any.
type ProbeTarget struct {
	Kind    string
	Where   []string
	Helo    string
	Plugout string
}

// DeliveryTarget is the target a poll of j would deliver to.
func DeliveryTarget(j Job, opts Options) ProbeTarget {
	u := j.User
	switch {
	case u.Maildir != nil && *u.Maildir != "":
		return ProbeTarget{Kind: "maildir", Where: []string{*u.Maildir}}
	case u.Mbox != nil && *u.Mbox != "":
		return ProbeTarget{Kind: "mbox", Where: []string{*u.Mbox}}
	case u.BSMTP != nil && *u.BSMTP != "":
		return ProbeTarget{Kind: "bsmtp", Where: []string{*u.BSMTP}}
	case u.MDA != nil && *u.MDA != "":
		return ProbeTarget{Kind: "mda", Where: []string{*u.MDA}}
	}
	so := smtpOptions(j, &opts)
	t := ProbeTarget{Kind: "smtp", Where: so.Hosts, Helo: so.Helo}
	if u.LMTP {
		t.Kind = "lmtp"
	}
	if j.Server != nil && j.Server.Plugout != nil {
		t.Plugout = *j.Server.Plugout
	}
	if !smtpExplicit(j) {
		t.Kind, t.Where = "default", defaultSMTPHosts
	}
	if t.Helo == "" {
		t.Helo, _ = os.Hostname()
	}
	return t
}

// ProbeSMTP connects to the SMTP or LMTP host a poll of j would deliver
// to, as openTarget does (the hunt list, or the default localhost): the
// greeting, EHLO or LHLO (and AUTH with esmtppassword), then QUIT. No
// message is sent. It returns the host that answered.
func ProbeSMTP(ctx context.Context, j Job, opts Options) (string, error) {
	so := smtpOptions(j, &opts)
	if !smtpExplicit(j) {
		so.Hosts = defaultSMTPHosts
	}
	for _, h := range so.Hosts {
		one := *so
		one.Hosts = []string{h}
		c, err := deliver.NewSMTP(&one)
		if err != nil {
			return "", err
		}
		if err = c.Connect(ctx); err == nil {
			return h, c.Close()
		}
		c.Close()
		if h == so.Hosts[len(so.Hosts)-1] || ctx.Err() != nil {
			return "", err
		}
	}
	return "", errors.New("no SMTP host to try")
}

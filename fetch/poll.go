package fetch

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/gofetchmail/gofetchmail/deliver"
	"github.com/gofetchmail/gofetchmail/envelope"
	"github.com/gofetchmail/gofetchmail/imap"
	"github.com/gofetchmail/gofetchmail/ledger"
	"github.com/gofetchmail/gofetchmail/mailbox"
	"github.com/gofetchmail/gofetchmail/pop3"
	"github.com/gofetchmail/gofetchmail/rcparse"
	"github.com/gofetchmail/gofetchmail/transport"
)

// Job is one user entry of one server, polled in one session.
type Job struct {
	Config *rcparse.Config
	Server *rcparse.Server
	User   *rcparse.User
}

// Label is "remotename@pollname", the name of a job in logs and errors.
func (j Job) Label() string { return j.User.Remotename + "@" + j.Server.Pollname }

// Result is the outcome of one poll.
type Result struct {
	Status    Status
	Waiting   int // messages the server had that were new to us
	Delivered int
	Deleted   int
	Skipped   int // oversized or failed deliveries left on the server
	Err       error
}

// Run polls every job in order with shared state (one UID store, shared SSH
// connections) and returns one result per job. A failure in one job does not
// stop the others.
func Run(ctx context.Context, jobs []Job, uids *UIDStore, opts Options) []Result {
	opts.fillProcess()
	if err := opts.theLedger().Recover(uids, opts.logger()); err != nil {
		opts.logger().Error(err.Error())
	}
	d := newDialer(&opts)
	defer d.close()
	out := make([]Result, 0, len(jobs))
	for _, j := range jobs {
		res := pollOne(ctx, d, j, uids, &opts)
		opts.done(res)
		out = append(out, res)
	}
	return out
}

// ExitStatus folds results into fetchmail's process exit status: success if
// any poll retrieved mail, otherwise the status of the last poll.
func ExitStatus(results []Result) Status {
	if len(results) == 0 {
		return StatusNoMail
	}
	for _, r := range results {
		if r.Status == StatusSuccess {
			return StatusSuccess
		}
	}
	return results[len(results)-1].Status
}

// session is the state of one poll of one mailbox: a POP3 session, or an
// IMAP connection and its folders. The engine (engine.go) runs it; the
// protocol's part is its mailbox (packages mailbox/pop3box, mailbox/imapbox).
type session struct {
	job    Job
	opts   *Options
	uids   *UIDStore
	key    string // idfile account key (IMAP: of the folder being polled)
	label  string
	client *pop3.Client  // POP3
	imap   *imap.Session // IMAP
	conn   net.Conn
	route  *route
	dlv    deliver.Deliverer
	commit ledger.Committer // the target's, chosen when it opened
	res    Result
	box    mailbox.Mailbox // the mailbox being polled

	pending  []message // delivered, not yet recorded
	toDelete []message // recorded (or flushed, or refused): to delete on the server
	caps     pop3.Capabilities
	buf      []byte
	br       *bufio.Reader     // reused across messages, peeks at the header
	sub      *subsession       // carried across the sessions of one poll (expunge N, fetchlimit)
	host     string            // this host's name, looked up once (localHost)
	last     bounceInfo        // of the message being delivered (notify.go)
	alias    *hostAliasChecker // multidrop dns (multidrop.go)

	prog      Progress // of the messages being retrieved
	progStart time.Time
	idx       int           // messages handed to delivery so far
	folder    string        // the IMAP folder being polled (Received header, tracepolls)
	inflight  *inflight     // the sealed batch whose commit runs (engine.go)
	batch     batchPace     // sizes the next batch (engine.go)
	kd        *keepdaysPoll // what keepdays did in the mailbox being polled (keepdays.go)
}

func pollOne(ctx context.Context, d *dialer, j Job, uids *UIDStore, opts *Options) Result {
	s, err := runSessions(ctx, d, j, uids, opts)
	if err != nil {
		st := StatusOf(err)
		var fe *Error
		if !errors.As(err, &fe) {
			server := ""
			var de *transport.DialError
			if s.route != nil && !(s.route.kind == "tcp" && errors.As(err, &de)) {
				// (a TCP dial error names the address already)
				server = s.route.describe()
			}
			err = &Error{Poll: s.label, Server: server, Status: st, Err: err}
		}
		s.res.Status, s.res.Err = st, err
		return s.res
	}
	switch {
	case s.res.Status == StatusMaxFetch:
		// fetchmail reports the fetchlimit (13) even when mail was retrieved.
	case s.res.Delivered > 0 || (opts.Check && s.res.Waiting > 0):
		s.res.Status = StatusSuccess
	case s.res.Status == 0:
		s.res.Status = StatusNoMail
	}
	return s.res
}

func (s *session) timeout() time.Duration {
	t := s.job.Server.Timeout
	if t <= 0 {
		t = 300
	}
	return time.Duration(t) * time.Second
}

func (s *session) run(ctx context.Context, d *dialer) error {
	log := s.opts.logger()
	srv, u := s.job.Server, s.job.User
	switch p := strings.ToUpper(srv.Protocol); p {
	case "IMAP":
		return s.runIMAP(ctx, d)
	case "AUTO", "":
		if done, err := s.tryIMAP(ctx, d); done {
			return err
		}
	case "POP3", "APOP":
	default:
		return &Error{Poll: s.label, Status: StatusProtocol, Err: fmt.Errorf("protocol %s is not supported yet (POP3, APOP and IMAP are)", srv.Protocol)}
	}
	r, err := chooseRoute(srv, u, s.opts)
	if err != nil {
		return err
	}
	s.route = r
	log.Log(ctx, s.opts.pollingLevel(), "polling "+s.label+" via "+r.describe(), "poll", s.label)
	conn, err := d.dial(ctx, r, srv, s.timeout())
	if err != nil {
		return err
	}
	s.conn = conn
	if u.SSL {
		if conn, err = s.implicitTLS(ctx, conn); err != nil {
			return err
		}
	}
	popts := &pop3.Options{Timeout: s.timeout()}
	if s.opts.Verbose > 0 {
		popts.Trace = func(dir byte, line string) { log.Debug("POP3" + string(dir) + " " + line) }
	}
	s.client = pop3.NewClient(conn, popts)
	defer s.client.Close()
	if r.protectedBySSH() {
		log.Debug("POP3 runs inside SSH to the mail server itself; STLS is not demanded (fetchmail 6.4 would, unless sslproto '')")
	} else if r.kind != "tcp" {
		log.Debug("the SSH channel ends at a host that is not the mail server; STLS and the cleartext refusal apply as over TCP")
	}
	if _, err := s.client.Greeting(ctx); err != nil {
		return err
	}
	caps, err := s.client.Capa(ctx)
	if err != nil {
		return err
	}
	if mustSTLS(u, r) {
		if err := s.startTLS(ctx, caps); err != nil {
			return err
		}
		if caps, err = s.client.Capa(ctx); err != nil {
			return err
		}
	}
	s.caps = caps
	if err := s.authenticate(ctx, caps); err != nil {
		return err
	}
	defer s.closeTarget()
	box := s.pop3Box()
	defer s.reportKeepdays() // after the QUIT that made the DELEs final
	if err := s.poll(ctx, box); err != nil {
		return err
	}
	return box.Finish(ctx)
}

// staged is a message read to its end and handed to the deliverer, not
// yet committed: IMAP commits it only once the server's response that
// carried it has parsed to its end (imap.Session.FetchStaged).
type staged struct {
	s      *session
	ctx    context.Context
	m      message
	tx     deliver.Tx
	read   int64 // octets read from the server
	idx, n int
}

// stageOne delivers the message m, read from r, up to the commit: the
// message is read from r to its end and written to a delivery transaction
// (its Received header naming protocol), which the caller commits
// (staged.commit) or aborts (staged.abort).
func (s *session) stageOne(ctx context.Context, m message, r io.Reader, protocol string, idx, n int) (*staged, error) {
	srv, u := s.job.Server, s.job.User
	// What the server sends is counted (and watched for an overrun) as it
	// arrives, the header peek included. The size cap lets one byte past
	// maxMessageBytes through; reaching it means the server is not ending
	// the message.
	cr := &countingReader{r: r, soft: overrunBytes(m.Size), budget: s.timeout(), cut: s.closeConn}
	defer cr.stop()
	limit := maxMessageBytes(m.Size)
	if s.br == nil {
		s.br = bufio.NewReaderSize(io.LimitReader(cr, limit+1), envelope.HeaderPeek)
	} else {
		s.br.Reset(io.LimitReader(cr, limit+1))
	}
	fields := envelope.PeekHeader(s.br)
	env := deliver.Envelope{From: envelope.SenderOf(fields), To: s.localRecipients(), Remote: s.label}
	multidrop := envelope.IsMultidrop(u)
	if multidrop {
		to, err := s.multidropTo(ctx, fields)
		if err != nil {
			return nil, &deliveryError{err}
		}
		env.To = to
	}
	s.debugDelivery(m, env)
	s.last = s.bounceInfoOf(env)
	tx, err := s.dlv.Begin(ctx, env)
	if err != nil {
		return nil, &deliveryError{err}
	}
	// Header processing (rewrite, dropstatus, ...) streams into tx.
	hw := deliver.NewHeaderFilter(tx, headerOptions(s.job))
	if !s.job.Config.Invisible {
		ri := envelope.Received{
			ServerName: queryName(srv),
			LocalHost:  s.localHost(),
			Protocol:   protocol,
			Version:    s.opts.Version,
			Date:       s.opts.now(),
		}
		if ta, ok := s.conn.RemoteAddr().(*net.TCPAddr); ok && s.route.kind == "tcp" {
			ri.ServerIP = ta.IP.String()
		}
		if srv.Tracepolls {
			ri.PollLabel, ri.Account, ri.Folder = srv.Pollname, u.Remotename, s.folder
		}
		if len(env.To) == 1 {
			ri.Recipient = env.To[0] + "@" + s.smtpDomain()
			ri.Multidrop = multidrop
		}
		if _, err := io.WriteString(hw, envelope.ReceivedHeader(ri)); err != nil {
			tx.Abort()
			return nil, &deliveryError{err}
		}
	}
	copied, err := io.CopyBuffer(hw, s.br, s.buf)
	if cr.stop() {
		// The connection is closed already: nothing was deleted in this
		// session, so the message stays on the server.
		tx.Abort()
		return nil, &Error{Poll: s.label, Server: s.route.describe(), Status: StatusProtocol, Err: &overrunError{num: m.ID(), listed: m.Size, read: cr.soft, budget: cr.budget}}
	}
	if err == nil && copied > limit {
		tx.Abort()
		// Close the connection first: the caller's deferred close of the
		// message would otherwise drain the endless message. Nothing was
		// deleted in this session, so the message stays on the server.
		s.closeConn()
		return nil, &Error{Poll: s.label, Server: s.route.describe(), Status: StatusProtocol, Err: &oversizeError{num: m.ID(), listed: m.Size, cap: limit}}
	}
	if err == nil {
		err = hw.Close()
	}
	if err != nil {
		tx.Abort()
		if cr.err != nil {
			return nil, fmt.Errorf("reading message %d: %w", m.ID(), cr.err)
		}
		return nil, &deliveryError{err}
	}
	return &staged{s: s, ctx: ctx, m: m, tx: tx, read: cr.n, idx: idx, n: n}, nil
}

// commit makes the staged message delivered, notes it with the target's
// committer and adds it to the pending batch (endBatch records it).
func (st *staged) commit() error {
	s, tx, m := st.s, st.tx, st.m
	if err := tx.Commit(); err != nil {
		tx.Abort()
		return &deliveryError{err}
	}
	s.bouncePartial(st.ctx, tx)
	s.res.Delivered++
	s.pending = append(s.pending, m)
	s.commit.Delivered(tx, m.Entry)
	// As fetchmail, the size is the one the server listed (st.read counts
	// the bytes read, line ends as they came).
	size := st.m.Size
	if size <= 0 {
		size = st.read
	}
	if log := s.opts.logger(); log.Enabled(st.ctx, slog.LevelInfo) {
		// (built only when shown: -s polls thousands of messages silently)
		log.Info(fmt.Sprintf("reading message %s:%d of %d (%d octets) delivered to %s", s.label, st.idx, st.n, size, s.dlv))
	}
	return nil
}

// abort drops the staged message: nothing of it is delivered.
func (st *staged) abort() { st.tx.Abort() }

// closeConn closes the session's connection at once.
func (s *session) closeConn() {
	if s.client != nil {
		s.client.Close()
	}
	if s.imap != nil {
		s.imap.Close()
	}
}

// localRecipients are the local names of a single-drop entry.
func (s *session) localRecipients() []string {
	var out []string
	for _, ln := range s.job.User.Localnames {
		if !ln.Wildcard && ln.Local != "" {
			out = append(out, ln.Local)
		}
	}
	return out
}

func (s *session) smtpDomain() string {
	u := s.job.User
	if u.Smtpaddress != nil && *u.Smtpaddress != "" {
		return *u.Smtpaddress
	}
	return "localhost"
}

func (s *session) localHost() string {
	if s.host != "" {
		return s.host
	}
	s.host = s.opts.Hostname
	if s.host == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "localhost"
		}
		s.host = h
	}
	return s.host
}

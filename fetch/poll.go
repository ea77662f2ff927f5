package fetch

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/gofetchmail/gofetchmail/deliver"
	"github.com/gofetchmail/gofetchmail/envelope"
	"github.com/gofetchmail/gofetchmail/imap"
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
	if err := recoverJournal(uids, opts.logger()); err != nil {
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

// session is the state of one poll.
type session struct {
	job    Job
	opts   *Options
	uids   *UIDStore
	key    string // idfile account key
	label  string
	client *pop3.Client
	imap   *imap.Session // instead of client when the protocol is IMAP
	conn   net.Conn
	route  *route
	dlv    deliver.Deliverer
	res    Result

	pending  []pendingMsg // delivered, not yet durable/recorded/deleted
	deleted  []string     // UIDs of messages to delete (forgotten after QUIT)
	toDelete []int        // message numbers to DELE before QUIT
	caps     pop3.Capabilities
	buf      []byte
	br       *bufio.Reader     // reused across messages, peeks at the header
	sub      *subsession       // carried across the sessions of one poll (expunge N)
	host     string            // this host's name, looked up once (localHost)
	last     bounceInfo        // of the message being delivered (notify.go)
	alias    *hostAliasChecker // multidrop dns (multidrop.go)
	mboxJ    *batchJournal     // of the open mbox batch (mbox_journal.go)
	doneJ    *batchJournal     // UIDs delivered in this batch (delivered_journal.go)

	imapPollState // IMAP only (imap_poll.go)
}

type pendingMsg struct {
	num int
	uid string
	key string // the deliverer's name for the message (journal), if any
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
	if err := s.fetchAll(ctx); err != nil {
		return err
	}
	return s.finish(ctx)
}

// message is one server message as listed.
type message struct {
	num  int
	uid  string
	size int64
}

func (s *session) fetchAll(ctx context.Context) (err error) {
	log := s.opts.logger()
	u := s.job.User
	count, total, err := s.client.Stat(ctx)
	if err != nil {
		return err
	}
	if count == 0 {
		s.logNoMail(s.mailboxName(""))
		s.uids.Retain(s.key, map[string]bool{})
		return nil
	}
	lst, err := s.listMessages(ctx, count)
	if err != nil {
		return err
	}
	msgs, times := lst.msgs, lst.times
	withUID := 0
	for _, m := range msgs {
		if m.uid != "" {
			withUID++
		}
	}
	// A UID the server gives several messages identifies none of them: such
	// messages are treated as having no UID (never "already delivered").
	dups := 0
	for i := range msgs {
		if len(times) == withUID {
			break // every UID is distinct: nothing to look for
		}
		if msgs[i].uid != "" && times[msgs[i].uid] > 1 {
			msgs[i].uid = ""
			dups++
		}
	}
	if dups > 0 {
		log.Warn(fmt.Sprintf("%s: the server gives %d messages a UID it also gives another; they are fetched as if they had none", s.label, dups))
	}
	listed := make([]string, len(msgs))
	for i := range msgs {
		listed[i] = msgs[i].uid
	}
	seen, all := s.uids.Lookup(s.key, listed)
	if lst.consistent && !all {
		s.uids.RetainFunc(s.key, func(uid string) bool { return times[uid] > 0 })
	}
	var fresh []message
	old := make([]message, 0, s.uids.Len(s.key))
	for i, m := range msgs {
		if seen[i] && !u.Fetchall {
			old = append(old, m)
			continue
		}
		fresh = append(fresh, m)
	}
	fresh = s.sub.admit(fresh) // expunge N: not what an earlier session left
	if !lst.sized {
		if err := s.sizeMessages(ctx, fresh, len(msgs)); err != nil {
			return err
		}
	}
	s.debugUIDs(msgs, old, fresh)
	s.res.Waiting = len(fresh)
	log.Info(countLine(len(msgs), len(old), s.mailboxName(""), total))
	if s.opts.Check {
		return nil
	}
	// Messages already delivered in an earlier run (recorded in the idfile)
	// but still on the server: that run was stopped before its QUIT, or the
	// entry used keep. Without keep they are deleted, never delivered twice;
	// flush deletes them even with keep, as fetchmail's flush does.
	if !u.Keep || u.Flush {
		for _, m := range old {
			s.toDelete = append(s.toDelete, m.num)
			s.deleted = append(s.deleted, m.uid)
		}
	}
	// Oversized messages stay on the server (limitflush deletes them);
	// fetchlimit and expunge N cap the rest.
	var want, big []message
	oversized := 0
	for _, m := range fresh {
		if u.Limit > 0 && m.size > int64(u.Limit) {
			if u.Limitflush {
				log.Info(fmt.Sprintf("skipping message %s:%d (%d octets) (oversized) flushed", s.label, m.num, m.size))
				s.toDelete = append(s.toDelete, m.num)
				if m.uid != "" {
					s.deleted = append(s.deleted, m.uid)
				}
				big = append(big, m)
				continue
			}
			log.Info(fmt.Sprintf("skipping message %s:%d (%d octets) (oversized)", s.label, m.num, m.size))
			s.res.Skipped++
			oversized++
			big = append(big, m)
			continue
		}
		want = append(want, m)
	}
	s.warnOversized(ctx, big)
	want = s.capBatch(want) // fetchlimit, expunge N
	if len(want) == 0 {
		return s.deleteMarked(ctx)
	}
	dlv, err := openTarget(s.job, s.opts)
	if err != nil {
		return &Error{Poll: s.label, Status: StatusSMTP, Err: err}
	}
	s.dlv = dlv
	s.watchMbox(dlv)
	defer s.closeDelivered()
	defer s.closeMboxJournal()
	defer dlv.Close()
	defer func() {
		if err != nil {
			s.salvage()
		}
	}()
	s.buf = make([]byte, 256*1024)
	nums := make([]int, len(want))
	byNum := make(map[int]message, len(want))
	for i, m := range want {
		nums[i] = m.num
		byNum[m.num] = m
	}
	p := s.client.RetrPipeline(ctx, nums, s.retrWindow())
	prog := Progress{Poll: s.label, Total: len(want)}
	for _, m := range want {
		prog.TotalBytes += m.size
	}
	started := time.Now()
	report := func(rd *pop3.MessageReader) {
		if s.opts.Progress == nil {
			return
		}
		prog.Done++
		if rd != nil {
			prog.Bytes += rd.Bytes()
		}
		prog.Elapsed = time.Since(started)
		s.opts.Progress(prog)
	}
	for i := 1; ; i++ {
		num, rd, err := p.Next()
		var perr *pop3.Error
		if errors.As(err, &perr) {
			log.Error(fmt.Sprintf("message %s:%d could not be retrieved, left on the server: %v", s.label, num, err))
			s.res.Skipped++
			report(nil)
			continue
		}
		if err != nil {
			return err
		}
		if rd == nil {
			break
		}
		err = s.fetchOne(ctx, byNum[num], rd, i, len(want))
		report(rd)
		if err != nil {
			var de *deliveryError
			if errors.As(err, &de) {
				if _, stop := s.undelivered(ctx, num, byNum[num].uid, err, de); stop != nil {
					return stop
				}
				continue
			}
			return err
		}
		if len(s.pending) >= s.opts.batchSize() {
			if err := s.flush(); err != nil {
				return err
			}
		}
	}
	if err := s.flush(); err != nil {
		return err
	}
	if err := s.deleteMarked(ctx); err != nil {
		return err
	}
	if s.res.Delivered == 0 && s.res.Skipped > oversized && s.res.Status == 0 {
		s.res.Status = StatusSMTP
	}
	return nil
}

// undelivered deals with a message whose delivery failed (de, inside err)
// by deliveryVerdict: the poll stops (stop), or, under set no softbounce, a
// permanently refused message is marked for deletion and bounced, as
// fetchmail does; otherwise it stays on the server (stays, counted as
// skipped) for the next poll. POP3 and IMAP polls alike.
func (s *session) undelivered(ctx context.Context, num int, uid string, err error, de *deliveryError) (stays bool, stop error) {
	log := s.opts.logger()
	switch deliveryVerdict(s.job, de.err) {
	case verdictStopPoll:
		return false, &Error{Poll: s.label, Status: StatusSMTP, Err: err}
	case verdictDelete:
		log.Error(fmt.Sprintf("message %s:%d refused permanently, deleted (no softbounce): %v", s.label, num, de.err))
		s.toDelete = append(s.toDelete, num)
		if uid != "" {
			s.deleted = append(s.deleted, uid)
		}
		s.bounce(ctx, s.last, de.err)
		return false, nil
	}
	log.Error(fmt.Sprintf("message %s:%d not delivered, left on the server: %v", s.label, num, de.err))
	s.res.Skipped++
	return true, nil
}

func (s *session) fetchOne(ctx context.Context, m message, rd *pop3.MessageReader, idx, n int) error {
	defer rd.Close()
	return s.deliverOne(ctx, m, rd, "POP3", idx, n)
}

// deliverOne delivers the message m, read from r, whatever the protocol
// that retrieved it (named in the Received header), and adds it to the
// pending list of flush.
func (s *session) deliverOne(ctx context.Context, m message, r io.Reader, protocol string, idx, n int) error {
	st, err := s.stageOne(ctx, m, r, protocol, idx, n)
	if err != nil {
		return err
	}
	return st.commit()
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

// stageOne is deliverOne up to the commit: the message is read from r to
// its end and written to a delivery transaction, which the caller
// commits (staged.commit) or aborts (staged.abort).
func (s *session) stageOne(ctx context.Context, m message, r io.Reader, protocol string, idx, n int) (*staged, error) {
	srv, u := s.job.Server, s.job.User
	// What the server sends is counted (and watched for an overrun) as it
	// arrives, the header peek included. The size cap lets one byte past
	// maxMessageBytes through; reaching it means the server is not ending
	// the message.
	cr := &countingReader{r: r, soft: overrunBytes(m.size), budget: s.timeout(), cut: s.closeConn}
	defer cr.stop()
	limit := maxMessageBytes(m.size)
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
			ri.PollLabel, ri.Account, ri.Folder = srv.Pollname, u.Remotename, s.imapFolder
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
		return nil, &Error{Poll: s.label, Server: s.route.describe(), Status: StatusProtocol, Err: &overrunError{num: m.num, listed: m.size, read: cr.soft, budget: cr.budget}}
	}
	if err == nil && copied > limit {
		tx.Abort()
		// Close the connection first: the caller's deferred close of the
		// message would otherwise drain the endless message. Nothing was
		// deleted in this session, so the message stays on the server.
		s.closeConn()
		return nil, &Error{Poll: s.label, Server: s.route.describe(), Status: StatusProtocol, Err: &oversizeError{num: m.num, listed: m.size, cap: limit}}
	}
	if err == nil {
		err = hw.Close()
	}
	if err != nil {
		tx.Abort()
		if cr.err != nil {
			return nil, fmt.Errorf("reading message %d: %w", m.num, cr.err)
		}
		return nil, &deliveryError{err}
	}
	return &staged{s: s, ctx: ctx, m: m, tx: tx, read: cr.n, idx: idx, n: n}, nil
}

// commit makes the staged message delivered and adds it to the pending
// list of flush.
func (st *staged) commit() error {
	s, tx, m := st.s, st.tx, st.m
	if err := tx.Commit(); err != nil {
		tx.Abort()
		return &deliveryError{err}
	}
	s.bouncePartial(st.ctx, tx)
	s.res.Delivered++
	pm := pendingMsg{num: m.num, uid: m.uid}
	if k, ok := tx.(deliver.Keyed); ok {
		pm.key = k.Key()
	}
	s.pending = append(s.pending, pm)
	s.noteMboxMessage(tx, m.uid)
	s.noteDelivered(m.uid)
	// As fetchmail, the size is the one the server listed (st.read counts
	// the bytes read, line ends as they came).
	size := st.m.size
	if size <= 0 {
		size = st.read
	}
	s.opts.logger().Info(fmt.Sprintf("reading message %s:%d of %d (%d octets) delivered to %s", s.label, st.idx, st.n, size, s.dlv))
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

// record makes the pending deliveries durable (the deliverer's group
// commit) and records their UIDs durably in the idfile. Only what record
// accepted may be deleted on the server.
func (s *session) record() error {
	commitMu.Lock() // one commit at a time per process (IDLE sessions run concurrently)
	defer commitMu.Unlock()
	if st, ok := s.dlv.(stager); ok {
		return s.recordJournaled(st)
	}
	if b, ok := s.dlv.(deliver.Batcher); ok {
		if err := b.Sync(); err != nil {
			// Not durable: do not delete. The next poll fetches them again.
			// (An mbox truncates the batch off itself.)
			s.dropMboxJournal()
			return &Error{Poll: s.label, Status: StatusSMTP, Err: &deliveryError{err}}
		}
	}
	if err := s.recordUIDs(); err != nil {
		// The next run cuts an unrecorded mbox batch off, and records what
		// other targets took for good.
		s.closeMboxJournal()
		s.closeDelivered()
		return err
	}
	s.dropMboxJournal()
	s.dropDelivered()
	return nil
}

// recordJournaled is record for a deliverer that stages: stage durably,
// journal, publish, record the UIDs, drop the journal. A crash anywhere in
// between is finished by recoverJournal, so nothing is delivered twice.
func (s *session) recordJournaled(st stager) error {
	if err := st.Prepare(); err != nil {
		return &Error{Poll: s.label, Status: StatusSMTP, Err: &deliveryError{err}}
	}
	j := journal{Account: s.key, Maildir: st.Path()}
	for _, p := range s.pending {
		if p.uid != "" && p.key != "" {
			j.Entries = append(j.Entries, journalEntry{UID: p.uid, Key: p.key})
		}
	}
	jpath := journalPath(s.uids.Path())
	if err := writeJournal(jpath, j); err != nil {
		return &Error{Poll: s.label, Status: StatusIOErr, Err: err}
	}
	if err := st.Sync(); err != nil {
		os.Remove(jpath) // nothing published is recorded; Recover would check anyway
		return &Error{Poll: s.label, Status: StatusSMTP, Err: &deliveryError{err}}
	}
	if err := s.recordUIDs(); err != nil {
		return err // the journal stays: the next run records the UIDs
	}
	if err := os.Remove(jpath); err != nil {
		s.opts.logger().Warn("could not remove the delivery journal; the next run will replay it harmlessly", "err", err)
	}
	return nil
}

// recordUIDs durably records the pending messages' UIDs in the idfile.
func (s *session) recordUIDs() error {
	var uids []string
	for _, p := range s.pending {
		if p.uid != "" {
			uids = append(uids, p.uid)
		}
	}
	s.uids.Add(s.key, uids...)
	if err := s.uids.Save(); err != nil {
		return &Error{Poll: s.label, Status: StatusIOErr, Err: err}
	}
	s.debugRecorded(len(s.pending))
	return nil
}

// flush makes the pending deliveries durable and recorded, and only then
// marks them for deletion (with keep, they are only remembered as seen).
// The DELEs themselves go out after the retrieval, in deleteMarked: POP3
// deletes nothing before QUIT, and a DELE must not cut into pipelined
// RETR replies.
func (s *session) flush() error {
	if len(s.pending) == 0 {
		return nil
	}
	defer func() { s.pending = s.pending[:0] }()
	if err := s.record(); err != nil {
		return err
	}
	if s.job.User.Keep {
		return nil
	}
	for _, p := range s.pending {
		s.toDelete = append(s.toDelete, p.num)
		if p.uid != "" {
			s.deleted = append(s.deleted, p.uid)
		}
	}
	return nil
}

// deleteMarked sends the DELEs of every message marked for deletion:
// delivered and recorded in this poll, or recorded by an earlier one.
func (s *session) deleteMarked(ctx context.Context) error {
	if len(s.toDelete) == 0 {
		return nil
	}
	return s.client.DeleMany(ctx, s.toDelete, s.window())
}

// window is how many short commands (LIST n, DELE) go out in one write
// under RFC 2449 PIPELINING: enough that a round trip is paid once per few
// hundred messages, few enough that their replies (some 30 bytes each)
// never fill the socket buffers while the commands are being written.
// Without PIPELINING, one.
func (s *session) window() int {
	if s.caps.Has("PIPELINING") {
		return 256
	}
	return 1
}

// retrWindow is how many RETR commands are kept in flight: the server
// streams that many messages without waiting for the client.
func (s *session) retrWindow() int {
	if s.caps.Has("PIPELINING") {
		return 32
	}
	return 1
}

// salvage runs when a poll breaks off with messages delivered but not yet
// flushed: it makes them durable and records their UIDs, so the next poll
// deletes them instead of delivering them again. No DELE is sent: the
// session is broken.
func (s *session) salvage() {
	if len(s.pending) == 0 {
		return
	}
	defer func() { s.pending = s.pending[:0] }()
	if err := s.record(); err != nil {
		s.opts.logger().Error("delivered messages could not be recorded; the next poll may deliver them again", "err", err)
	}
}

// finish sends QUIT (which expunges the DELEd messages) and then forgets the
// UIDs of the deleted messages.
func (s *session) finish(ctx context.Context) error {
	if err := s.client.Quit(ctx); err != nil {
		// The DELEs may not have been applied; their UIDs stay recorded so
		// the next poll deletes them without delivering them again.
		return err
	}
	s.res.Deleted = len(s.toDelete) // applied by the QUIT just answered
	if len(s.deleted) > 0 {
		s.uids.Remove(s.key, s.deleted...)
	}
	if err := s.uids.Save(); err != nil {
		return &Error{Poll: s.label, Status: StatusIOErr, Err: err}
	}
	s.debugQuit()
	if s.res.Deleted > 0 {
		s.opts.logger().Info(fmt.Sprintf("%d messages deleted on %s", s.res.Deleted, s.job.Server.Pollname))
	}
	return nil
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

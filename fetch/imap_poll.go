package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gofetchmail/gofetchmail/imap"
)

// IMAP retrieval, as fetchmail does it (the folder list, unseen messages
// unless fetchall, \Seen with keep, \Deleted and EXPUNGE otherwise) plus
// UID and UIDVALIDITY tracking (see imap_state.go). The delivery path and
// its durability rules are POP3's: deliverOne, flush, record, salvage. A
// message is marked \Deleted only after its delivery is durable and its
// UID durably recorded, and its UID is forgotten only after the EXPUNGE.

// imapPollState is the part of a session only IMAP uses.
type imapPollState struct {
	imapFolder    string   // the folder being polled
	imapTaken     int      // messages taken in earlier folders (fetchlimit)
	imapMarked    []uint32 // marked \Deleted, not yet expunged
	imapMarkedIDs []string // their idfile entries
	// imapShared: the server gave several messages of the folder one
	// UID (its listing shows a UID twice, or it sent a body no UID FETCH
	// claimed). From then on nothing is flagged or expunged in the folder
	// in this poll: a STORE or EXPUNGE by UID would also hit a message
	// whose body was not delivered. The UIDs in question are not
	// recorded.
	imapShared   bool
	imapSharedID map[uint32]bool // those UIDs (0: unknown, all of them)
}

// imapRoute is chooseRoute for IMAP: default ports 143 and 993.
func (s *session) imapRoute() (*route, error) {
	sc := *s.job.Server
	sc.Protocol = "IMAP"
	return chooseRoute(&sc, s.job.User, s.opts)
}

// imapAbsent marks a failure that means "no IMAP server there": the
// connection was refused or the greeting was not IMAP. protocol auto then
// tries POP3.
type imapAbsent struct{ err error }

func (e *imapAbsent) Error() string { return e.err.Error() }
func (e *imapAbsent) Unwrap() error { return e.err }

// tryIMAP is protocol auto's first attempt, as in fetchmail: IMAP, and
// POP3 (done false) when no IMAP server answers.
func (s *session) tryIMAP(ctx context.Context, d *dialer) (done bool, err error) {
	err = s.runIMAP(ctx, d)
	var absent *imapAbsent
	if !errors.As(err, &absent) {
		return true, err
	}
	s.opts.logger().Info("no IMAP server answers; trying POP3 (protocol auto)", "poll", s.label, "err", absent.err)
	s.route, s.conn, s.imap = nil, nil, nil
	s.res = Result{}
	return false, nil
}

func (s *session) runIMAP(ctx context.Context, d *dialer) error {
	if err := s.imapConnect(ctx, d); err != nil {
		return err
	}
	defer s.imap.Close()
	defer s.closeTarget()
	folders := s.job.User.Mailboxes
	if len(folders) == 0 {
		folders = []string{"INBOX"}
	}
	for _, f := range folders {
		if err := s.pollFolder(ctx, f); err != nil {
			return err
		}
	}
	if err := s.imap.Logout(ctx); err != nil {
		// Everything is expunged and recorded by now: nothing depends on it.
		s.opts.logger().Debug("LOGOUT failed", "poll", s.label, "err", err)
	}
	return nil
}

// closeTarget closes the deliverer, if one was opened.
func (s *session) closeTarget() {
	if s.dlv != nil {
		s.dlv.Close()
		s.dlv = nil
	}
	if s.commit != nil {
		s.commit.Close()
		s.commit = nil
	}
}

// imapConnect opens the IMAP session of s up to the authenticated state:
// route, dial, TLS (implicit or STARTTLS), greeting, login.
func (s *session) imapConnect(ctx context.Context, d *dialer) error {
	log := s.opts.logger()
	srv, u := s.job.Server, s.job.User
	auto := !strings.EqualFold(srv.Protocol, "IMAP")
	r, err := s.imapRoute()
	if err != nil {
		return err
	}
	s.route = r
	log.Log(ctx, s.opts.pollingLevel(), "polling "+s.label+" via "+r.describe()+" (IMAP)", "poll", s.label)
	conn, err := d.dial(ctx, r, srv, s.timeout())
	if err != nil {
		if auto {
			return &imapAbsent{err}
		}
		return err
	}
	s.conn = conn
	if u.SSL {
		if conn, err = s.implicitTLS(ctx, conn); err != nil {
			return err
		}
	}
	iopts := &imap.Options{Timeout: s.timeout()}
	if s.opts.Verbose > 0 {
		iopts.Trace = func(dir byte, line string) { log.Debug("IMAP" + string(dir) + " " + line) }
	}
	sess, err := imap.Open(ctx, conn, iopts)
	if err != nil {
		var pe *imap.ProtocolError
		if auto && (errors.As(err, &pe) || errors.Is(err, io.ErrUnexpectedEOF)) {
			return &imapAbsent{err}
		}
		return err
	}
	s.imap = sess
	s.conn = sess.Conn()
	err = s.imapSecureAndLogin(ctx)
	if err != nil {
		sess.Close()
	}
	return err
}

// imapSecureAndLogin runs STARTTLS and the login of a fresh session.
func (s *session) imapSecureAndLogin(ctx context.Context) error {
	u := s.job.User
	if err := s.imapStartTLS(ctx); err != nil {
		return err
	}
	if s.encrypted() && !u.SSLCertck && u.SSLFingerprint == nil {
		s.opts.logger().Warn("the server certificate was not checked: the connection is insecure, continuing anyway (use sslcertck or sslfingerprint)", "poll", s.label)
	}
	if s.imap.PreAuth() {
		s.opts.logger().Debug("the server greeted with PREAUTH: already logged in, no credentials sent", "poll", s.label)
		return nil
	}
	caps, err := s.imap.Caps(ctx)
	if err != nil {
		return err
	}
	return s.imapAuthenticate(ctx, caps)
}

// imapStartTLS applies fetchmail's STARTTLS rules (mustSTLS and mayTrySTLS
// in tlspolicy.go, which exempt only SSH that reaches the mail server
// itself); after a PREAUTH greeting, where STARTTLS is not allowed, a
// mandatory TLS is an error telling to add sslproto ”.
func (s *session) imapStartTLS(ctx context.Context) error {
	srv, u := s.job.Server, s.job.User
	sess := s.imap
	must := mustSTLS(u, s.route)
	may := mayTrySTLS(u, s.route)
	if !must && !may {
		return nil
	}
	if sess.PreAuth() {
		if must {
			return &Error{Poll: s.label, Status: StatusSocket, Err: fmt.Errorf("%w: the server greeted with PREAUTH, after which STARTTLS is not possible (add sslproto '' to the rc file to go on without TLS)", errTLSUpgrade)}
		}
		return nil
	}
	caps, err := sess.Caps(ctx)
	if err != nil {
		return err
	}
	if !caps.Has("STARTTLS") {
		if must {
			return &Error{Poll: s.label, Status: StatusSocket, Err: fmt.Errorf("%w: the server does not offer STARTTLS (add sslproto '' to the rc file to allow plain text)", errTLSUpgrade)}
		}
		return nil
	}
	cfg, err := tlsConfig(srv, u)
	if err != nil {
		return &Error{Poll: s.label, Status: StatusSocket, Err: err}
	}
	err = sess.StartTLS(ctx, cfg)
	var refused *imap.Error
	switch {
	case err == nil:
		s.conn = sess.Conn()
		s.opts.logger().Debug("STARTTLS: TLS established", "poll", s.label)
		return nil
	case !must && errors.As(err, &refused):
		s.opts.logger().Warn("the server refused STARTTLS; continuing without TLS", "poll", s.label, "err", err)
		return nil
	}
	return &Error{Poll: s.label, Status: StatusSocket, Err: fmt.Errorf("%w: %s: %w", errTLSUpgrade, cfg.ServerName, err)}
}

// pollFolder retrieves the chosen messages of one folder.
func (s *session) pollFolder(ctx context.Context, folder string) (err error) {
	log := s.opts.logger()
	sess := s.imap
	u := s.job.User
	mb, err := sess.Select(ctx, folder, s.opts.Check)
	if err != nil {
		return err
	}
	s.key = imapStateKey(AccountKey(u.Remotename, queryName(s.job.Server)), folder)
	s.imapFolder = folder
	if s.commit != nil {
		s.commit.Bind(s.key) // batches never span folders
	}
	s.imapShared, s.imapSharedID = false, nil
	s.imap.StrayBodies() // what came before this folder is not its own
	track := mb.UIDValidity != 0
	if !track {
		log.Warn(fmt.Sprintf("%s: folder %s has no UIDVALIDITY; no UID state is kept for it (only \\Seen tells what is new)", s.label, folder))
	}
	st := loadIMAPState(s.uids, s.key, mb.UIDValidity)
	if len(st.stale) > 0 && !s.opts.Check {
		if st.oldValid != 0 {
			log.Warn(fmt.Sprintf("%s: the UIDVALIDITY of folder %s changed from %d to %d: the mailbox was rebuilt on the server; %d recorded UIDs forgotten, unseen messages are fetched", s.label, folder, st.oldValid, mb.UIDValidity, len(st.stale)))
		}
		s.uids.Remove(s.key, st.stale...)
	}
	next := mb.UIDNext
	if mb.Exists == 0 {
		s.logNoMail(s.mailboxName(folder))
		if !s.opts.Check {
			s.uids.Remove(s.key, recordedEntries(mb.UIDValidity, slices.Collect(maps.Keys(st.recorded)))...)
			return s.saveWatermark(st, mb.UIDValidity, next, track)
		}
		return nil
	}
	// The listing, not EXISTS, says which messages there are.
	all, err := sess.ListUIDs(ctx)
	var refused *imap.Error
	if errors.As(err, &refused) {
		// "FETCH 1:*" refused (a server that counted messages it does
		// not have): UID SEARCH ALL lists them, duplicates folded.
		log.Debug("FETCH 1:* (UID) refused; listing with UID SEARCH ALL", "poll", s.label, "err", err)
		all, err = sess.Search(ctx, imap.Query{})
	}
	if err != nil {
		return err
	}
	present := make(map[uint32]bool, len(all))
	var twice []uint32
	var top uint32
	for _, x := range all {
		if present[x] {
			twice = append(twice, x)
		}
		present[x] = true
		top = max(top, x)
	}
	if next == 0 && len(all) > 0 {
		next = top + 1
	}
	if len(twice) > 0 {
		s.imapSharedUIDs(folder, fmt.Sprintf("its listing gives %d messages a UID another one has", len(twice)), twice)
	}
	var cand, unseen []uint32
	if u.Fetchall {
		cand, err = sess.Search(ctx, imap.Query{Undeleted: true})
	} else {
		unseen, err = sess.Search(ctx, imap.Query{Unseen: true, Undeleted: true})
		cand = slices.Clone(unseen)
		if err == nil && st.next > 0 && track {
			var newer []uint32
			newer, err = sess.Search(ctx, imap.Query{FromUID: st.next, Undeleted: true})
			cand = append(cand, newer...)
			slices.Sort(cand)
			cand = slices.Compact(cand)
		}
	}
	if err != nil {
		return err
	}
	var fresh, old []uint32
	for x := range st.recorded {
		if present[x] && !s.imapSharedID[x] {
			old = append(old, x)
		}
	}
	slices.Sort(old)
	for _, x := range cand {
		if st.recorded[x] && !u.Fetchall && !s.imapSharedID[x] {
			continue
		}
		if !present[x] {
			continue // a SEARCH answer naming a message the listing has not
		}
		fresh = append(fresh, x)
	}
	sizes, err := sess.Sizes(ctx, fresh)
	if err != nil {
		return err
	}
	var total int64
	for _, x := range fresh {
		total += sizes[x]
	}
	s.res.Waiting += len(fresh)
	if int(mb.Exists) != len(all) {
		log.Warn(fmt.Sprintf("%s: folder %s: the server's EXISTS counts %d messages but it lists %d; only the listed messages are considered", s.label, folder, mb.Exists, len(all)))
	}
	seen := len(all) - len(fresh)
	log.Info(countLine(len(all), seen, s.mailboxName(folder), -1)) // as fetchmail: no size for IMAP
	if s.opts.Check {
		return nil
	}
	// Recorded UIDs the server no longer has were expunged by someone else.
	var gone []uint32
	for x := range st.recorded {
		if !present[x] {
			gone = append(gone, x)
		}
	}
	s.uids.Remove(s.key, recordedEntries(mb.UIDValidity, gone)...)

	// Delivered by an earlier poll, still there: deleted (not delivered
	// again) without keep, or with flush. With keep, one that is still
	// unseen (that poll broke off before its STORE) is marked \Seen now.
	if u.Keep && !u.Flush {
		var unmarked []uint32
		for _, x := range unseen {
			if st.recorded[x] {
				unmarked = append(unmarked, x)
			}
		}
		if err := s.imapStore(ctx, unmarked, imap.FlagSeen); err != nil {
			return err
		}
	}
	if (!u.Keep || u.Flush) && !s.imapShared {
		for _, x := range old {
			s.toDelete = append(s.toDelete, int(x))
			s.deleted = append(s.deleted, imapEntry(mb.UIDValidity, x))
		}
	}
	left := next // the lowest UID wanted but not delivered
	var want []uint32
	oversized := 0
	for _, x := range fresh {
		if u.Limit > 0 && sizes[x] > int64(u.Limit) {
			if u.Limitflush {
				log.Info(fmt.Sprintf("skipping message %s:%d (%d octets) (oversized) flushed", s.label, x, sizes[x]))
				s.toDelete = append(s.toDelete, int(x))
				continue
			}
			log.Info(fmt.Sprintf("skipping message %s:%d (%d octets) (oversized)", s.label, x, sizes[x]))
			s.res.Skipped++
			oversized++
			continue
		}
		want = append(want, x)
	}
	if u.Fetchlimit > 0 {
		room := max(u.Fetchlimit-s.imapTaken, 0)
		if len(want) > room {
			log.Info(fmt.Sprintf("fetchlimit %d reached; %d messages left on the server", u.Fetchlimit, len(want)-room))
			left = min(left, want[room])
			want = want[:room]
			s.res.Status = StatusMaxFetch
		}
		s.imapTaken += len(want)
	}
	entry := func(x uint32) string {
		if !track || s.imapSharedID[x] || s.imapSharedID[0] {
			return ""
		}
		return imapEntry(mb.UIDValidity, x)
	}
	if len(want) > 0 {
		if s.dlv == nil {
			dlv, err := openTarget(s.job, s.opts)
			if err != nil {
				return &Error{Poll: s.label, Status: StatusSMTP, Err: err}
			}
			s.openCommitter(dlv)
		}
		if s.buf == nil {
			s.buf = make([]byte, 256*1024)
		}
		defer func() {
			if err != nil {
				s.salvage()
			}
		}()
		if left, err = s.imapRetrieve(ctx, want, sizes, entry, left); err != nil {
			return err
		}
	}
	if err := s.imapApplyDeletes(ctx, true); err != nil {
		return err
	}
	if s.res.Delivered == 0 && s.res.Skipped > oversized && s.res.Status == 0 {
		s.res.Status = StatusSMTP
	}
	return s.saveWatermark(loadIMAPState(s.uids, s.key, mb.UIDValidity), mb.UIDValidity, left, track)
}

func recordedEntries(validity uint32, uids []uint32) []string {
	out := make([]string, len(uids))
	for i, x := range uids {
		out[i] = imapEntry(validity, x)
	}
	return out
}

// saveWatermark records that every UID below next was considered.
func (s *session) saveWatermark(st imapFolderState, validity, next uint32, track bool) error {
	if track && next > 0 {
		if w := imapWatermark(validity, next); w != st.nextEntry {
			if st.nextEntry != "" {
				s.uids.Remove(s.key, st.nextEntry)
			}
			s.uids.Add(s.key, w)
		}
	}
	if err := s.uids.Save(); err != nil {
		return &Error{Poll: s.label, Status: StatusIOErr, Err: err}
	}
	return nil
}

// imapRetrieve fetches want in batches of Options.BatchSize: one streamed
// UID FETCH per batch, then the batch is made durable and recorded (flush)
// and only then marked \Seen (keep) or \Deleted. It returns the lowest UID
// left on the server for a retry (failed deliveries), or left.
//
// A message is committed to its target only once the server's response
// that carried it parsed to its end (imap.Session.FetchStaged): a literal
// shorter than the message, followed by the rest of it, is a protocol
// error, and nothing of that message is delivered. The literal, not
// RFC822.SIZE, is the message's size: limit applies to it.
func (s *session) imapRetrieve(ctx context.Context, want []uint32, sizes map[uint32]int64, entry func(uint32) string, left uint32) (uint32, error) {
	u := s.job.User
	log := s.opts.logger()
	prog := Progress{Poll: s.label, Total: len(want)}
	for _, x := range want {
		prog.TotalBytes += sizes[x]
	}
	started := time.Now()
	idx := 0
	batch := s.opts.batchSize()
	for i := 0; i < len(want); i += batch {
		part := want[i:min(i+batch, len(want))]
		answered := 0
		err := s.imap.FetchStaged(ctx, part, func(b imap.Body) (imap.Pending, error) {
			idx++
			answered++
			m := message{num: int(b.UID), uid: entry(b.UID), size: b.Size}
			if u.Limit > 0 && b.Size > int64(u.Limit) {
				// RFC822.SIZE said it fits; the literal says otherwise.
				log.Info(fmt.Sprintf("skipping message %s:%d (%d octets) (oversized; RFC822.SIZE said %d)", s.label, b.UID, b.Size, sizes[b.UID]))
				s.res.Skipped++
				return nil, nil
			}
			cr := &countingReader{r: b.R}
			lf := newCRLFReader(cr)
			st, err := s.stageOne(ctx, m, lf, "IMAP", idx, len(want))
			lf.release()
			if s.opts.Progress != nil {
				prog.Done++
				prog.Bytes += cr.n
				prog.Elapsed = time.Since(started)
				s.opts.Progress(prog)
			}
			if err != nil {
				return nil, s.imapUndelivered(ctx, b.UID, m.uid, err, &left)
			}
			return &imapStaged{st: st, left: &left}, nil
		})
		if n := len(part) - answered; n > 0 && err == nil {
			log.Warn(fmt.Sprintf("%s: the server sent no message body for %d of the %d messages asked for; they stay on the server", s.label, n, len(part)))
		}
		s.imapCheckStray()
		if err != nil {
			return left, err
		}
		var kept []uint32
		if u.Keep {
			for _, p := range s.pending {
				kept = append(kept, uint32(p.num))
			}
		}
		if err := s.flush(); err != nil {
			return left, err
		}
		// fetchmail marks a kept message \Seen by fetching it; BODY.PEEK
		// does not, so it is marked now, once its delivery is durable.
		if err := s.imapStore(ctx, kept, imap.FlagSeen); err != nil {
			return left, err
		}
		if err := s.imapApplyDeletes(ctx, false); err != nil {
			return left, err
		}
	}
	return left, nil
}

// imapStaged is a staged IMAP message, committed by FetchStaged once its
// response is complete.
type imapStaged struct {
	st   *staged
	left *uint32
}

func (p *imapStaged) Commit() error {
	s := p.st.s
	s.imapCheckStray()
	if s.imapSharedID[0] || s.imapSharedID[uint32(p.st.m.num)] {
		p.st.m.uid = "" // another message has its UID: not recorded
	}
	err := p.st.commit()
	if err == nil {
		return nil
	}
	return s.imapUndelivered(p.st.ctx, uint32(p.st.m.num), p.st.m.uid, err, p.left)
}

func (p *imapStaged) Abort() { p.st.abort() }

// imapUndelivered deals with a failed delivery of message uid as
// undelivered does; it returns the error that ends the fetch, if any.
func (s *session) imapUndelivered(ctx context.Context, uid uint32, entry string, err error, left *uint32) error {
	var de *deliveryError
	if !errors.As(err, &de) {
		return err
	}
	stays, stop := s.undelivered(ctx, int(uid), entry, err, de)
	if stays {
		*left = min(*left, uid)
	}
	return stop
}

// imapSharedUIDs notes that the server gives several messages of the
// folder one UID (uids; 0 for "which is unknown"): from now on nothing in
// the folder is flagged or expunged in this poll, and those UIDs are not
// recorded. It says so once per folder and poll.
func (s *session) imapSharedUIDs(folder, why string, uids []uint32) {
	if s.imapSharedID == nil {
		s.imapSharedID = map[uint32]bool{}
	}
	for _, x := range uids {
		s.imapSharedID[x] = true
	}
	if !s.imapShared {
		s.imapShared = true
		s.toDelete, s.deleted = s.toDelete[:0], s.deleted[:0]
		s.opts.logger().Error(fmt.Sprintf("%s: folder %s: the server's UIDs are not unique (%s); nothing is flagged or deleted on it in this poll, and messages whose UID is shared are delivered without being recorded", s.label, folder, why))
	}
}

// imapCheckStray looks for bodies a UID FETCH dropped (a second message
// with a UID asked for, or one not asked for) and, if there are any,
// treats their UIDs as not unique: the pending messages with those UIDs
// (all pending ones, when which is unknown) are not recorded.
func (s *session) imapCheckStray() {
	n, uids := s.imap.StrayBodies()
	if n == 0 {
		return
	}
	list := slices.Collect(maps.Keys(uids))
	s.imapSharedUIDs(s.imapFolder, fmt.Sprintf("it sent %d message bodies no UID FETCH claimed", n), list)
	for i, p := range s.pending {
		if s.imapSharedID[0] || s.imapSharedID[uint32(p.num)] {
			s.pending[i].uid = ""
		}
	}
}

// imapStore is Store, unless the server's UIDs are not unique.
func (s *session) imapStore(ctx context.Context, uids []uint32, flags ...string) error {
	if s.imapShared {
		return nil
	}
	return s.imap.Store(ctx, uids, flags...)
}

// imapApplyDeletes marks the messages of toDelete \Seen \Deleted, and
// expunges as the expunge option says: after every N deletions, only at
// the end of the folder (expunge 0), or after every batch (unset: fetchmail
// expunges after every deletion). The UIDs of expunged messages are then
// forgotten.
func (s *session) imapApplyDeletes(ctx context.Context, final bool) error {
	u := s.job.User
	if s.imapShared {
		// Their UIDs stay recorded: a later poll deletes them, once the
		// server's UIDs are unique again.
		s.toDelete, s.deleted = s.toDelete[:0], s.deleted[:0]
		return nil
	}
	if len(s.toDelete) > 0 {
		uids := make([]uint32, len(s.toDelete))
		for i, n := range s.toDelete {
			uids[i] = uint32(n)
		}
		if err := s.imap.Store(ctx, uids, imap.FlagSeen, imap.FlagDeleted); err != nil {
			return err
		}
		s.imapMarked = append(s.imapMarked, uids...)
		s.imapMarkedIDs = append(s.imapMarkedIDs, s.deleted...)
		s.toDelete, s.deleted = s.toDelete[:0], s.deleted[:0]
	}
	n := len(s.imapMarked)
	if n == 0 {
		return nil
	}
	due := final || !u.ExpungeSet || (u.Expunge > 0 && n >= u.Expunge)
	if !due {
		return nil
	}
	if err := s.imap.Expunge(ctx, s.imapMarked); err != nil {
		// Their UIDs stay recorded: the next poll deletes them again
		// without delivering them.
		return err
	}
	s.res.Deleted += n
	s.opts.logger().Info(fmt.Sprintf("%d messages deleted on %s", n, s.job.Server.Pollname))
	s.uids.Remove(s.key, s.imapMarkedIDs...)
	s.imapMarked, s.imapMarkedIDs = s.imapMarked[:0], s.imapMarkedIDs[:0]
	if err := s.uids.Save(); err != nil {
		return &Error{Poll: s.label, Status: StatusIOErr, Err: err}
	}
	return nil
}

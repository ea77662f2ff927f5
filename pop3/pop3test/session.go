package pop3test

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// stampSeq makes APOP timestamps unique.
var stampSeq atomic.Int64

// session is one client connection.
type session struct {
	s    *Server
	raw  net.Conn // the accepted connection
	conn net.Conn // raw, or the TLS connection after STLS
	br   *bufio.Reader
	bw   *bufio.Writer

	stamp   string   // APOP timestamp, "" if disabled
	user    string   // from USER
	msgs    []*entry // nil until logged in
	deleted []bool
	tls     bool
}

func newSession(s *Server, conn net.Conn) *session {
	return &session{s: s, raw: conn, conn: conn, br: bufio.NewReader(conn), bw: bufio.NewWriter(conn)}
}

// end unlocks the mailbox without deleting anything, if QUIT did not, and
// then closes the connection: a client that sees the connection end may
// log in again at once (as after a server that died), and must not find
// the mailbox still locked by the session it saw end.
func (ss *session) end() {
	if ss.msgs != nil {
		ss.s.mbox.close(nil)
		ss.msgs = nil
		ss.s.logf("pop3test: session dropped, nothing deleted")
	}
	// Closing the raw connection skips TLS close_notify, which would block
	// on a synchronous transport such as net.Pipe.
	ss.raw.Close()
}

// update is RFC 1939's UPDATE state, entered by QUIT after login: remove
// the messages marked deleted and unlock, before the +OK is sent.
func (ss *session) update() {
	del := map[*entry]bool{}
	for i, d := range ss.deleted {
		if d {
			del[ss.msgs[i]] = true
		}
	}
	ss.s.mbox.close(del)
	ss.msgs = nil
	ss.s.logf("pop3test: QUIT, %d message(s) deleted", len(del))
}

func (ss *session) serve() {
	greet := "+OK pop3test ready"
	if ss.s.opts.APOPTimestamp {
		ss.stamp = fmt.Sprintf("<%d.%d@pop3test>", stampSeq.Add(1), time.Now().UnixNano())
		greet += " " + ss.stamp
	}
	if ss.s.opts.Preauth {
		msgs, ok := ss.s.mbox.open()
		if !ok {
			ss.line("-ERR [IN-USE] mailbox locked by another session")
			ss.bw.Flush()
			return
		}
		if msgs == nil {
			msgs = []*entry{}
		}
		ss.msgs, ss.deleted = msgs, make([]bool, len(msgs))
		greet = "+OK pop3test preauthenticated"
	}
	ss.line(greet)
	for {
		if ss.br.Buffered() == 0 {
			if ss.bw.Flush() != nil {
				return
			}
		}
		raw, err := ss.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			ss.line("-ERR command line too long")
			ss.bw.Flush()
			return
		}
		if err != nil {
			return
		}
		cmd := string(bytes.TrimRight(raw, "\r\n"))
		ss.s.logf("pop3test: C: %s", maskCmd(cmd))
		if h := ss.s.opts.Hook; h != nil {
			if reply, handled := h(cmd); handled {
				if reply == HookClose {
					return
				}
				if reply != "" && !strings.HasSuffix(reply, "\n") {
					reply += "\r\n"
				}
				ss.bw.WriteString(reply)
				continue
			}
		}
		if !ss.dispatch(cmd) {
			ss.bw.Flush()
			return
		}
	}
}

// maskCmd hides passwords from the log.
func maskCmd(cmd string) string {
	f := strings.Fields(cmd)
	if len(f) > 1 && (strings.EqualFold(f[0], "PASS") || strings.EqualFold(f[0], "APOP")) {
		return f[0] + " *****"
	}
	return cmd
}

func (ss *session) line(s string) {
	ss.bw.WriteString(s)
	ss.bw.WriteString("\r\n")
}

// dispatch runs one command and reports whether the session goes on.
func (ss *session) dispatch(cmd string) bool {
	verb, arg, _ := strings.Cut(cmd, " ")
	verb = strings.ToUpper(verb)
	args := strings.Fields(arg)
	if verb == "QUIT" {
		if ss.msgs != nil {
			ss.update()
		}
		ss.line("+OK pop3test signing off")
		return false
	}
	if verb == "CAPA" {
		ss.capa()
		return true
	}
	if ss.msgs == nil {
		return ss.authorization(verb, arg, args)
	}
	ss.transaction(verb, args)
	return true
}

func (ss *session) capa() {
	ss.line("+OK capability list follows")
	for _, c := range DefaultCapa {
		ss.line(c)
	}
	if ss.s.opts.TLSConfig != nil && !ss.tls && ss.msgs == nil {
		ss.line("STLS")
	}
	if len(ss.s.opts.SASL) > 0 && ss.msgs == nil {
		ss.line("SASL " + strings.Join(ss.s.opts.SASL, " "))
	}
	for _, c := range ss.s.opts.Capa {
		ss.line(c)
	}
	ss.line(".")
}

func (ss *session) authorization(verb, arg string, args []string) bool {
	mb := ss.s.mbox
	switch verb {
	case "USER":
		ss.user = arg
		ss.line("+OK send PASS")
	case "PASS":
		if ss.user == "" {
			ss.line("-ERR USER first")
			return true
		}
		user := ss.user
		ss.user = ""
		if user != mb.user || arg != mb.pass {
			ss.line("-ERR [AUTH] invalid credentials")
			return true
		}
		ss.login()
	case "APOP":
		if ss.stamp == "" {
			ss.line("-ERR APOP not supported")
			return true
		}
		sum := md5.Sum([]byte(ss.stamp + mb.pass))
		if len(args) != 2 || args[0] != mb.user || !strings.EqualFold(args[1], hex.EncodeToString(sum[:])) {
			ss.line("-ERR [AUTH] invalid credentials")
			return true
		}
		ss.login()
	case "AUTH":
		return ss.auth(args)
	case "STLS":
		if ss.s.opts.TLSConfig == nil || ss.tls {
			ss.line("-ERR STLS not available")
			return true
		}
		ss.line("+OK begin TLS negotiation")
		if ss.bw.Flush() != nil {
			return false
		}
		tc := tls.Server(ss.conn, ss.s.opts.TLSConfig)
		if err := tc.Handshake(); err != nil {
			ss.s.logf("pop3test: TLS handshake: %v", err)
			return false
		}
		ss.conn, ss.tls = tc, true
		ss.br.Reset(tc) // RFC 2595: discard anything sent before TLS
		ss.bw.Reset(tc)
	case "STAT", "LIST", "UIDL", "RETR", "TOP", "DELE", "RSET", "NOOP":
		ss.line("-ERR not logged in")
	default:
		ss.line("-ERR unknown command")
	}
	return true
}

func (ss *session) login() {
	msgs, ok := ss.s.mbox.open()
	if !ok {
		ss.line("-ERR [IN-USE] mailbox locked by another session")
		return
	}
	if msgs == nil {
		msgs = []*entry{} // non-nil: an empty maildrop is still a logged-in session
	}
	ss.msgs, ss.deleted = msgs, make([]bool, len(msgs))
	ss.line(fmt.Sprintf("+OK %d message(s)", len(msgs)))
}

func (ss *session) transaction(verb string, args []string) {
	switch verb {
	case "STAT":
		n, size := 0, 0
		for i, e := range ss.msgs {
			if !ss.deleted[i] {
				n++
				size += wireSize(e.Data)
			}
		}
		ss.line(fmt.Sprintf("+OK %d %d", n, size))
	case "LIST", "UIDL":
		show := func(i int) string {
			if verb == "LIST" {
				return fmt.Sprintf("%d %d", i+1, wireSize(ss.msgs[i].Data))
			}
			return fmt.Sprintf("%d %s", i+1, ss.msgs[i].UID)
		}
		if len(args) == 0 {
			ss.line("+OK listing follows")
			for i := range ss.msgs {
				if !ss.deleted[i] {
					ss.line(show(i))
				}
			}
			ss.line(".")
			return
		}
		if i, ok := ss.msg(args); ok {
			ss.line("+OK " + show(i))
		}
	case "RETR":
		if i, ok := ss.msg(args); ok {
			ss.line(fmt.Sprintf("+OK %d octets", wireSize(ss.msgs[i].Data)))
			writeBody(ss.bw, ss.msgs[i].Data, -1)
			ss.line(".")
		}
	case "TOP":
		if len(args) != 2 {
			ss.line("-ERR usage: TOP msg lines")
			return
		}
		lines, err := strconv.Atoi(args[1])
		if err != nil || lines < 0 {
			ss.line("-ERR bad line count")
			return
		}
		if i, ok := ss.msg(args[:1]); ok {
			ss.line("+OK top of message follows")
			writeBody(ss.bw, ss.msgs[i].Data, lines)
			ss.line(".")
		}
	case "DELE":
		if i, ok := ss.msg(args); ok {
			ss.deleted[i] = true
			ss.line(fmt.Sprintf("+OK message %d deleted", i+1))
		}
	case "RSET":
		clear(ss.deleted)
		ss.line("+OK")
	case "NOOP":
		ss.line("+OK")
	case "USER", "PASS", "APOP", "STLS":
		ss.line("-ERR already logged in")
	default:
		ss.line("-ERR unknown command")
	}
}

// msg parses a message number argument and answers -ERR if it is bad.
func (ss *session) msg(args []string) (int, bool) {
	if len(args) != 1 {
		ss.line("-ERR expected one message number")
		return 0, false
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 || n > len(ss.msgs) {
		ss.line("-ERR no such message")
		return 0, false
	}
	if ss.deleted[n-1] {
		ss.line(fmt.Sprintf("-ERR message %d already deleted", n))
		return 0, false
	}
	return n - 1, true
}

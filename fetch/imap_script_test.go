package fetch

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// scriptIMAP is a small IMAP server for hostile tests: a mailbox of
// messages in sequence order, each with a UID that need not be unique,
// served honestly (as a server whose index is broken would serve it)
// unless hook answers a command first. It does what a poll asks: LOGIN,
// SELECT, FETCH 1:* (UID), UID SEARCH, UID FETCH (RFC822.SIZE or
// BODY.PEEK[]), UID STORE, UID EXPUNGE, EXPUNGE, LOGOUT.
type scriptIMAP struct {
	mu       sync.Mutex
	msgs     []*scriptMsg
	validity uint32
	// hook answers a command line (tag stripped, verb upper-cased as
	// sent) by writing to w itself; it returns false to leave the
	// command to the server.
	hook func(tag, cmd string, w io.Writer) bool
	cmds []string // every command line received
}

type scriptMsg struct {
	uid   uint32
	data  string
	flags map[string]bool
}

func newScriptIMAP(t *testing.T) (*scriptIMAP, string) {
	t.Helper()
	s := &scriptIMAP{validity: 7}
	addr := serveLoopback(t, nil, s.serve)
	return s, addr
}

func (s *scriptIMAP) add(uid uint32, data string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, &scriptMsg{uid: uid, data: data, flags: map[string]bool{}})
}

// left returns the messages still on the server, and which are \Seen.
func (s *scriptIMAP) left() (data []string, seen []bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.msgs {
		data = append(data, m.data)
		seen = append(seen, m.flags[`\Seen`])
	}
	return data, seen
}

func (s *scriptIMAP) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.cmds)
}

func (s *scriptIMAP) serve(c net.Conn) {
	defer c.Close()
	w := bufio.NewWriter(c)
	br := bufio.NewReader(c)
	fmt.Fprintf(w, "* OK [CAPABILITY IMAP4rev1 UIDPLUS AUTH=PLAIN] script ready\r\n")
	w.Flush()
	for {
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		tag, cmd, _ := strings.Cut(line, " ")
		s.mu.Lock()
		s.cmds = append(s.cmds, cmd)
		hook := s.hook
		s.mu.Unlock()
		if hook != nil && hook(tag, cmd, w) {
			if w.Flush() != nil {
				return
			}
			continue
		}
		if !s.answer(tag, cmd, w) {
			w.Flush()
			return
		}
		if w.Flush() != nil {
			return
		}
	}
}

// answer serves one command honestly; false ends the connection.
func (s *scriptIMAP) answer(tag, cmd string, w io.Writer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	up := strings.ToUpper(cmd)
	ok := func(text string) { fmt.Fprintf(w, "%s OK %s\r\n", tag, text) }
	switch {
	case strings.HasPrefix(up, "CAPABILITY"):
		fmt.Fprintf(w, "* CAPABILITY IMAP4rev1 UIDPLUS AUTH=PLAIN\r\n")
		ok("done")
	case strings.HasPrefix(up, "LOGIN"), strings.HasPrefix(up, "NOOP"):
		ok("done")
	case strings.HasPrefix(up, "SELECT"), strings.HasPrefix(up, "EXAMINE"):
		var next uint32 = 1
		for _, m := range s.msgs {
			next = max(next, m.uid+1)
		}
		fmt.Fprintf(w, "* %d EXISTS\r\n* OK [UIDVALIDITY %d] v\r\n* OK [UIDNEXT %d] n\r\n", len(s.msgs), s.validity, next)
		ok("[READ-WRITE] selected")
	case strings.HasPrefix(up, "FETCH 1:* "):
		for i, m := range s.msgs {
			fmt.Fprintf(w, "* %d FETCH (UID %d)\r\n", i+1, m.uid)
		}
		ok("fetched")
	case strings.HasPrefix(up, "UID SEARCH "):
		fmt.Fprintf(w, "* SEARCH")
		for _, m := range s.matchSearch(up) {
			fmt.Fprintf(w, " %d", m.uid)
		}
		fmt.Fprintf(w, "\r\n")
		ok("searched")
	case strings.HasPrefix(up, "UID FETCH "):
		set := strings.Fields(cmd)[2]
		for i, m := range s.msgs {
			if !inSet(set, m.uid) {
				continue
			}
			if strings.Contains(up, "BODY") {
				fmt.Fprintf(w, "* %d FETCH (UID %d BODY[] {%d}\r\n%s)\r\n", i+1, m.uid, len(m.data), m.data)
			} else {
				fmt.Fprintf(w, "* %d FETCH (UID %d RFC822.SIZE %d)\r\n", i+1, m.uid, len(m.data))
			}
		}
		ok("fetched")
	case strings.HasPrefix(up, "UID STORE "):
		set := strings.Fields(cmd)[2]
		for _, m := range s.msgs {
			if !inSet(set, m.uid) {
				continue
			}
			for _, f := range []string{`\Seen`, `\Deleted`} {
				if strings.Contains(up, strings.ToUpper(f)) {
					m.flags[f] = true
				}
			}
		}
		ok("stored")
	case strings.HasPrefix(up, "UID EXPUNGE "), up == "EXPUNGE":
		set := ""
		if f := strings.Fields(cmd); len(f) > 2 {
			set = f[2]
		}
		var keep []*scriptMsg
		for _, m := range s.msgs {
			if m.flags[`\Deleted`] && (set == "" || inSet(set, m.uid)) {
				fmt.Fprintf(w, "* %d EXPUNGE\r\n", len(keep)+1)
				continue
			}
			keep = append(keep, m)
		}
		s.msgs = keep
		ok("expunged")
	case strings.HasPrefix(up, "LOGOUT"):
		fmt.Fprintf(w, "* BYE bye\r\n")
		ok("done")
		return false
	default:
		fmt.Fprintf(w, "%s BAD unknown command\r\n", tag)
	}
	return true
}

// matchSearch serves UID SEARCH ALL / UNSEEN / UNDELETED / UID n:*.
func (s *scriptIMAP) matchSearch(up string) []*scriptMsg {
	f := strings.Fields(up)[2:]
	var out []*scriptMsg
	for _, m := range s.msgs {
		match := true
		for i := 0; i < len(f); i++ {
			switch f[i] {
			case "UNSEEN":
				match = match && !m.flags[`\Seen`]
			case "UNDELETED":
				match = match && !m.flags[`\Deleted`]
			case "UID":
				i++
				match = match && inSet(f[i], m.uid)
			}
		}
		if match {
			out = append(out, m)
		}
	}
	return out
}

// inSet reports whether uid is in an IMAP sequence set such as 1:3,7,9:*.
func inSet(set string, uid uint32) bool {
	for _, r := range strings.Split(set, ",") {
		lo, hi, isRange := strings.Cut(r, ":")
		a, _ := strconv.ParseUint(lo, 10, 32)
		if !isRange {
			if uint32(a) == uid {
				return true
			}
			continue
		}
		b := uint64(1<<32 - 1)
		if hi != "*" {
			b, _ = strconv.ParseUint(hi, 10, 32)
		}
		if a > b {
			a, b = b, a
		}
		if uint64(uid) >= a && uint64(uid) <= b {
			return true
		}
	}
	return false
}

// scriptEnv is an imapEnv polling a scriptIMAP.
func newScriptEnv(t *testing.T, extra string) (*imapEnv, *scriptIMAP) {
	t.Helper()
	srv, addr := newScriptIMAP(t)
	e := &imapEnv{log: &syncBuffer{}}
	dir := t.TempDir()
	e.maildir = filepath.Join(dir, "Maildir")
	var err error
	e.uids, err = LoadUIDStore(filepath.Join(dir, "fetchids"))
	if err != nil {
		t.Fatal(err)
	}
	e.opts = Options{
		Logger:   slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Verbose:  1,
		Version:  "test",
		Hostname: "desk.example.net",
	}
	e.rejobAt(t, addr, "imap", extra)
	return e, srv
}

// pollGuarded is poll, failing the test instead of hanging it.
func (e *imapEnv) pollGuarded(t *testing.T) Result {
	t.Helper()
	done := make(chan Result, 1)
	go func() { done <- Run(context.Background(), []Job{e.job}, e.uids, e.opts)[0] }()
	select {
	case r := <-done:
		return r
	case <-time.After(time.Minute):
		t.Fatal("the poll hangs")
		return Result{}
	}
}

func scriptMsgText(name string) string {
	return "From: a@example.org\r\nSubject: " + name + "\r\n\r\nbody of " + name + "\r\n"
}

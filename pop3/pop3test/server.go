package pop3test

import (
	"crypto/tls"
	"fmt"
	"net"
	"sync"
)

// DefaultCapa is what CAPA announces before ServerOptions.Capa.
var DefaultCapa = []string{"USER", "UIDL", "TOP", "PIPELINING", "RESP-CODES", "AUTH-RESP-CODE"}

// HookClose, returned as a Hook reply, closes the connection without
// answering, as a crashing server or a broken network would.
const HookClose = "\x00close"

// ServerOptions configures a Server. A nil *ServerOptions means defaults.
type ServerOptions struct {
	// Capa lists extra CAPA lines, announced after DefaultCapa.
	Capa []string
	// APOPTimestamp puts an APOP timestamp in the greeting and enables APOP.
	APOPTimestamp bool
	// SASL lists the AUTH mechanisms (RFC 5034) the server accepts and
	// announces in CAPA: PLAIN, LOGIN, CRAM-MD5, OAUTHBEARER, XOAUTH2. The
	// OAuth2 mechanisms take the mailbox password as the access token.
	SASL []string
	// XOAuth2TwoStep makes XOAUTH2 behave as Microsoft's POP3 servers do:
	// an initial response on the AUTH line is refused, the token must
	// follow an empty "+" continuation.
	XOAuth2TwoStep bool
	// TokenOK, if set, decides whether an OAuth2 access token is good
	// (as a server asking an authorization server by introspection
	// does); without it the mailbox password is the only good token.
	TokenOK func(token string) bool
	// Preauth starts every session logged in, as a POP3 server run by
	// hand over ssh is (fetchmail's auth ssh); the greeting says so.
	Preauth bool
	// TLSConfig, if set, enables STLS (RFC 2595) and announces it in CAPA.
	TLSConfig *tls.Config
	// Hook, if set, sees every command line (without CRLF, PASS included)
	// before the server does. If it returns handled, the server sends
	// reply instead of handling the command: verbatim if it ends with a
	// line feed, else with CRLF appended. An empty reply sends nothing, so
	// the server stalls until the next command; HookClose drops the
	// connection.
	Hook func(cmd string) (reply string, handled bool)
	// Logf, if set, receives a line per command (passwords masked) and per
	// session event.
	Logf func(format string, args ...any)
}

// Server is a fake POP3 server for one Mailbox.
type Server struct {
	// Addr is the "127.0.0.1:port" address the server listens on.
	Addr string

	mbox *Mailbox
	opts ServerOptions
	ln   net.Listener

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// NewServer starts a server for mbox on 127.0.0.1 at an ephemeral port,
// serving each connection in its own goroutine until Close.
func NewServer(mbox *Mailbox, opts *ServerOptions) (*Server, error) {
	s := &Server{mbox: mbox, conns: map[net.Conn]struct{}{}}
	if opts != nil {
		s.opts = *opts
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("pop3test: %w", err)
	}
	s.ln, s.Addr = ln, ln.Addr().String()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go s.ServeConn(conn)
		}
	}()
	return s, nil
}

// ServeConn serves one POP3 session on conn and closes it. It returns
// when the client quits, the connection fails or the server is closed.
func (s *Server) ServeConn(conn net.Conn) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		conn.Close()
		return
	}
	s.conns[conn] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
		s.wg.Done()
	}()
	sess := newSession(s, conn)
	defer sess.end()
	sess.serve()
}

// Close stops listening, closes every open session (deleting nothing, as
// for dropped connections) and waits for them to end.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	var err error
	if s.ln != nil {
		err = s.ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

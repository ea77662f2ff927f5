// Package imaptest runs an in-memory IMAP server on loopback for tests of
// IMAP clients: go-imap's imapmemserver with one user, optional STARTTLS
// and an optional PREAUTH greeting.
package imaptest

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// Options tune a Server.
type Options struct {
	PreAuth   bool        // greet with PREAUTH, already logged in as the user
	TLSConfig *tls.Config // offer STARTTLS with this configuration
	NoIdle    bool        // serve an IMAP4rev1 server without UIDPLUS (IDLE stays: imapserver always has it)
	Addr      string      // listen here instead of a free port of 127.0.0.1
	// TokenOK, if set, adds SASL OAUTHBEARER and XOAUTH2 whose access
	// tokens it judges (as a server asking an authorization server by
	// introspection does).
	TokenOK func(token string) bool
	// Debug, if set, receives the raw protocol.
	Debug io.Writer
}

// Server is a running in-memory IMAP server.
type Server struct {
	Addr string
	User *imapmemserver.User
	srv  *imapserver.Server
	ln   net.Listener
}

// NewServer starts a server on 127.0.0.1 with one user whose INBOX is
// empty.
func NewServer(user, password string, opts *Options) (*Server, error) {
	if opts == nil {
		opts = &Options{}
	}
	mem := imapmemserver.New()
	u := imapmemserver.NewUser(user, password)
	if err := u.Create("INBOX", nil); err != nil {
		return nil, err
	}
	mem.AddUser(u)
	caps := goimap.CapSet{goimap.CapIMAP4rev1: {}, goimap.CapUIDPlus: {}}
	if opts.NoIdle {
		caps = goimap.CapSet{goimap.CapIMAP4rev1: {}}
	}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			if opts.PreAuth {
				return imapmemserver.NewUserSession(u), &imapserver.GreetingData{PreAuth: true}, nil
			}
			if opts.TokenOK != nil {
				return &oauthSession{Session: mem.NewSession(), user: user, password: password, tokenOK: opts.TokenOK}, nil, nil
			}
			return mem.NewSession(), nil, nil
		},
		Caps:         caps,
		TLSConfig:    opts.TLSConfig,
		InsecureAuth: true,
		Logger:       log.New(io.Discard, "", 0),
		DebugWriter:  opts.Debug,
	})
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	go srv.Serve(ln)
	return &Server{Addr: ln.Addr().String(), User: u, srv: srv, ln: ln}, nil
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// Append stores a message in mailbox with the given flags.
func (s *Server) Append(mailbox string, data []byte, flags ...string) error {
	fl := make([]goimap.Flag, len(flags))
	for i, f := range flags {
		fl[i] = goimap.Flag(f)
	}
	_, err := s.User.Append(mailbox, bytes.NewReader(data), &goimap.AppendOptions{Flags: fl})
	if err != nil {
		return fmt.Errorf("imaptest: append to %s: %w", mailbox, err)
	}
	return nil
}

// Count returns how many messages mailbox holds, and how many of them are
// unseen.
func (s *Server) Count(mailbox string) (total, unseen int, err error) {
	d, err := s.User.Status(mailbox, &goimap.StatusOptions{NumMessages: true, NumUnseen: true})
	if err != nil {
		return 0, 0, err
	}
	return int(*d.NumMessages), int(*d.NumUnseen), nil
}

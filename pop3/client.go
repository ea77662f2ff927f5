package pop3

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/gofetchmail/gofetchmail/internal/redact"
)

// DefaultTimeout is the per-command wait used when Options.Timeout is 0.
const DefaultTimeout = 5 * time.Minute

// bufSize is the size of the one read buffer of a session; it is also the
// longest status or list line accepted.
const bufSize = 64 << 10

// Options configures a Client. A nil *Options means the defaults.
type Options struct {
	// Timeout bounds how long one command waits for the server, and how
	// long one MessageReader.Read waits for more data. 0 means
	// DefaultTimeout. It is enforced by closing the connection.
	Timeout time.Duration

	// Trace, if set, receives every status and list line without its line
	// ending: dir is '>' for a line sent, '<' for a line received. The
	// arguments of PASS, APOP and AUTH, and SASL exchanges, are masked
	// ("PASS *****"). Message contents are not traced.
	Trace func(dir byte, line string)
}

// Client is one POP3 session. It is not safe for concurrent use, except
// that Close may be called from another goroutine to abort a call.
type Client struct {
	br      *bufio.Reader
	timeout time.Duration
	trace   func(byte, string)
	wbuf    []byte

	mu    sync.Mutex // guards conn, cause and err against the abort paths
	conn  net.Conn
	cause error // why the connection was closed under a call: timeout, ctx, Close
	err   error // first fatal error; the session is unusable once set

	timer   *time.Timer    // Options.Timeout watchdog, reused
	reader  *MessageReader // open Retr/Top reader, nil when idle
	stamp   string         // APOP timestamp from the greeting
	inAuth  bool           // a SASL exchange is in progress: mask what is sent
	secrets redact.Set     // the login's secrets and their wire forms, masked in every reply
	stat    int            // message count of the last STAT, -1 before one
}

// NewClient returns a Client speaking POP3 over conn. It does no I/O;
// call Greeting first. conn.Close must unblock pending reads, as it does
// for TCP, TLS and SSH channel connections.
func NewClient(conn net.Conn, opts *Options) *Client {
	c := &Client{conn: conn, br: bufio.NewReaderSize(conn, bufSize), timeout: DefaultTimeout, stat: -1}
	if opts != nil {
		if opts.Timeout > 0 {
			c.timeout = opts.Timeout
		}
		c.trace = opts.Trace
	}
	return c
}

// Conn returns the connection the client currently speaks over.
func (c *Client) Conn() net.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn
}

// SetConn replaces the connection, after the caller has upgraded it (STLS
// then a TLS handshake over Conn). Data the server sent on the old
// connection after its last reply is discarded, and if there was any the
// session is marked broken: that is a response-injection attempt.
func (c *Client) SetConn(conn net.Conn) {
	c.mu.Lock()
	c.conn = conn
	if c.br.Buffered() > 0 && c.err == nil {
		c.err = &ProtocolError{Command: "STLS", Msg: "plaintext data received before the TLS handshake"}
	}
	c.mu.Unlock()
	c.br.Reset(conn)
}

// Close closes the connection without QUIT, so the server deletes
// nothing. It is safe to call more than once and from another goroutine.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.cause == nil {
		c.cause = net.ErrClosed
	}
	conn := c.conn
	c.mu.Unlock()
	return conn.Close()
}

// abort closes the connection under a running call and records why.
func (c *Client) abort(cause error) {
	c.mu.Lock()
	if c.cause == nil {
		c.cause = cause
	}
	conn := c.conn
	c.mu.Unlock()
	conn.Close()
}

// broken returns the reason the session is unusable, or nil.
func (c *Client) broken() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cause != nil {
		return c.cause
	}
	return c.err
}

// fail records a fatal error and returns it wrapped for the caller. When
// the connection was closed by a timeout, ctx or Close, that cause is
// reported instead of the resulting "use of closed connection".
func (c *Client) fail(cmd string, err error) error {
	c.mu.Lock()
	if c.cause != nil {
		err = c.cause
	}
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
	if pe, ok := err.(*ProtocolError); ok {
		if pe.Command == "" {
			pe.Command = cmd
		}
		pe.Msg = c.secrets.Scrub(pe.Msg) // it may quote the server's line
		return pe
	}
	return fmt.Errorf("pop3: %s: %w", cmd, err)
}

// begin checks that a command may be sent and arms ctx and the timeout.
// The returned release must be called when the command is over.
func (c *Client) begin(ctx context.Context, cmd string) (release func(), err error) {
	unwatch, err := c.start(ctx, cmd)
	if err != nil {
		return nil, err
	}
	return func() { c.disarm(); unwatch() }, nil
}

// start is begin with the two halves left to the caller: it returns the
// function that stops watching ctx, and the caller must call c.disarm.
func (c *Client) start(ctx context.Context, cmd string) (unwatch func(), err error) {
	if c.reader != nil {
		return nil, fmt.Errorf("pop3: %s: %w", cmd, ErrBusy)
	}
	if err := c.broken(); err != nil {
		return nil, fmt.Errorf("pop3: %s: session unusable: %w", cmd, err)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("pop3: %s: %w", cmd, context.Cause(ctx))
	}
	unwatch = c.watch(ctx)
	c.arm()
	return unwatch, nil
}

// watch closes the connection when ctx is done, until the returned
// function is called.
func (c *Client) watch(ctx context.Context) func() {
	if ctx.Done() == nil {
		return func() {}
	}
	stop := context.AfterFunc(ctx, func() { c.abort(context.Cause(ctx)) })
	return func() { stop() }
}

// arm starts (or restarts) the timeout watchdog.
func (c *Client) arm() {
	if c.timer == nil {
		c.timer = time.AfterFunc(c.timeout, func() { c.abort(ErrTimeout) })
		return
	}
	c.timer.Reset(c.timeout)
}

// disarm stops the timeout watchdog.
func (c *Client) disarm() {
	if c.timer != nil {
		c.timer.Stop()
	}
}

// Package pop3 is the POP3 client session gofetchmail speaks over any
// net.Conn: a TCP socket, a TLS connection or an SSH channel.
//
// A Client wraps a connection that the caller has already opened; it never
// dials. Commands follow RFC 1939 (USER/PASS, APOP, STAT, LIST, UIDL, RETR,
// TOP, DELE, RSET, NOOP, QUIT), RFC 2449 (CAPA and the extended response
// codes such as [AUTH], [IN-USE], [LOGIN-DELAY], [SYS/TEMP]) and RFC 5034
// (AUTH with a SASL mechanism). STLS (RFC 2595) is done by the caller:
// send it with Cmd, run the TLS handshake on Conn, then hand the TLS
// connection back with SetConn.
//
// Messages stream. Retr and Top return a MessageReader that dot-unstuffs
// the data and turns CRLF into LF as it reads, with one 64 KiB buffer per
// session and no per-line allocation, so a message of any size and lines
// of any length cost bounded memory. A server that sends forever is not
// bounded by this package: the caller caps the size it is willing to read
// (for example with io.LimitReader, using the size from List). Listing
// lines (UIDL, LIST, CAPA) are limited to 64 KiB each, and their number
// too: a CAPA answer to 1000 lines, a UIDL or LIST answer to the count of
// the session's last STAT plus 10000 (4 Mi lines without a STAT), so a
// server that never ends one gets a *ProtocolError, not unbounded memory.
//
// Every call takes a context.Context. Cancellation and Options.Timeout are
// enforced by closing the connection, never with SetDeadline, because an
// SSH channel's net.Conn does not support deadlines. After a timeout, a
// cancellation or a network error the session is unusable and every later
// call returns an error; the server, following RFC 1939, then deletes
// nothing, because deletions are only committed by QUIT.
//
// Server refusals are returned as *Error with the RFC 2449 response code
// parsed out (see IsAuthError and IsInUse); replies that are not POP3 are
// returned as *ProtocolError; network failures are wrapped with %w so that
// errors.Is(err, io.EOF) and net.Error checks keep working. No error and
// no trace line ever contains a password.
//
// Why not github.com/knadh/go-pop3 (v1.0.1): it reads each message whole
// into memory (a bytes.Buffer per RETR), it cannot switch to TLS in the
// middle of a session (no STLS; TLS is only chosen at dial time) and it
// returns untyped errors (errors.New of the server's text), so an
// authentication failure cannot be told from a locked mailbox. The tests
// still use it, as an independent client of the pop3test fake server.
package pop3

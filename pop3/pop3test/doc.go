// Package pop3test is an in-process fake POP3 server, for tests and for
// the `gofetchmail demo` command, in the way net/http/httptest serves HTTP
// tests. It is an ordinary package so that non-test code may use it.
//
// A Server serves one Mailbox with RFC 1939 semantics that a fetchmail
// replacement depends on: USER/PASS and APOP logins, STAT, LIST, UIDL,
// RETR and TOP with CRLF line endings and dot-stuffing, DELE/RSET that
// take effect only on QUIT (a dropped connection deletes nothing), one
// session at a time per mailbox ("-ERR [IN-USE]"), "-ERR [AUTH]" for bad
// credentials, CAPA with RFC 2449 response codes, and pipelined commands.
// ServerOptions.Hook scripts misbehaviour: stalls, dropped connections,
// odd replies.
//
// NewServer listens on 127.0.0.1 at an ephemeral port; ServeConn serves
// any other net.Conn, such as an SSH channel or one end of net.Pipe.
package pop3test

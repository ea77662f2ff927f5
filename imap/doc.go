// Package imap is the IMAP session gofetchmail speaks over any net.Conn: a
// TCP socket, a TLS connection, an SSH channel or a plugin's pipes. It is a
// thin layer over github.com/emersion/go-imap/v2/imapclient that adds what
// a mail retriever needs and imapclient does not give:
//
//   - It never dials. Open takes a connection the caller opened (the
//     transport package does that, SSH included), reads the greeting itself
//     and tells a PREAUTH greeting (an imapd run behind ssh, already logged
//     in) from an OK one.
//   - STARTTLS on a connection that is already open, after the greeting
//     and the capabilities were seen, so that the caller can apply
//     fetchmail's rules (mandatory, opportunistic, never after PREAUTH). The
//     pre-TLS exchange is done here, in the clear, before imapclient takes
//     the (encrypted) connection over; bytes the server sent after its
//     STARTTLS answer are refused (the STARTTLS injection attack).
//   - A context on every call, enforced by closing the connection when the
//     context ends or Options.Timeout passes without progress: SSH channels
//     support no deadlines of their own.
//   - Message bodies stream: FetchBodies hands each BODY.PEEK[] literal to
//     the caller as an io.Reader straight from the connection, never held
//     whole in memory.
//   - Typed errors: a NO, BAD or BYE answer is an *Error carrying the
//     command, the server's text and its response code
//     ([AUTHENTICATIONFAILED], [UNAVAILABLE], [INUSE] ...), so that the
//     caller can map it to fetchmail's exit codes; a server that does not
//     speak IMAP gives a *ProtocolError.
//   - A protocol trace (Options.Trace) with passwords, SASL exchanges and
//     message contents masked.
//   - Guards against two flaws of imapclient v2.0.0-beta.8 that a hostile
//     server could use: a capability list with a '(' in it makes its parser
//     spin forever, beyond any timeout (capGuard blanks the parentheses on
//     their way in), and SearchData.AllUIDs panics on a '*' and never ends
//     on UID 4294967295 (Search expands the answer itself, bounded).
//
// Everything is by UID (UID SEARCH, UID FETCH, UID STORE, UID EXPUNGE when
// the server has UIDPLUS), so that expunges in the middle of a session
// renumber nothing the caller holds.
package imap

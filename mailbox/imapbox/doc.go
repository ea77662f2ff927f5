// Package imapbox is one IMAP folder (RFC 9051) behind the engine's
// mailbox.Mailbox contract, retrieved as fetchmail does it: the unseen
// messages unless fetchall, \Seen with keep, \Deleted and EXPUNGE
// otherwise; plus UID and UIDVALIDITY state kept in the idfile (state.go),
// which fetchmail does not keep for IMAP.
//
// The folder is listed with UID SEARCH against that state, streamed with
// one UID FETCH per batch (each message committed only once the response
// that carried it parsed, crlf.go turning its line ends into LF), and a
// message is marked \Deleted only after its batch is durable and recorded;
// its UID is forgotten only after the EXPUNGE. The engine (package fetch)
// connects and logs in, and polls each folder of an entry through its own
// Box on one session.
package imapbox

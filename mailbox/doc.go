// Package mailbox is the contract between the engine (package fetch) and
// the mailbox of each protocol: one POP3 session (package
// mailbox/pop3box) or one IMAP folder (package mailbox/imapbox).
//
// The engine owns the order of a poll and every rule that is not about a
// protocol's commands (what is old, limit and limitflush and their warning,
// fetchlimit, the delivery target, delivery, the commit of each batch, what
// is marked for deletion, the salvage of a broken poll, progress and the
// final status). A Mailbox does what differs between the protocols: how
// the mailbox is listed, how a message is streamed, what keep does on the
// server and when a deletion is final. It reaches back into the engine
// only through Engine.
//
// A Message is a POP3 number or an IMAP UID, in separate typed fields
// (Num, UID), never converted into each other.
//
// Dependencies point down: fetch imports this package and the two
// mailboxes; they import this package, their protocol client and ledger,
// never fetch.
package mailbox

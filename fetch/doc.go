// Package fetch is the engine of gofetchmail: one poll of one user entry,
// whatever its protocol, tying the rc configuration, the transport, the
// POP3 or IMAP session, the ledger (idfile and journals) and the deliverer
// together.
//
// A poll runs, in order:
//
//	connect (TCP, TLS, STLS/STARTTLS, in-process SSH channel, preconnect, plugin)
//	log in
//	then, per POP3 session or IMAP folder, the engine (engine.go):
//	  list      the mailbox (mailbox/pop3box, mailbox/imapbox): fresh and old
//	  select    old ones deleted unless keep (flush: even with keep); limit,
//	            limitflush and the oversized-messages warning; fetchlimit;
//	            POP3's expunge N
//	  open      the delivery target and its committer (ledger.Ledger.Open)
//	  retrieve  each message streamed -> Received header -> deliverer
//	  commit    every batch sealed, then made durable, published and
//	            recorded while the next batch streams in
//	  settle    DELE (POP3) or UID STORE \Deleted and EXPUNGE (IMAP) of
//	            recorded messages only
//	  finish    QUIT or LOGOUT, the expunged messages' UIDs forgotten
//
// The protocols differ only behind the mailbox.Mailbox interface (package
// mailbox): each protocol's mailbox lives in a package of its own
// (mailbox/pop3box, mailbox/imapbox), built by the engine with what it
// needs (boxes.go) and reaching back only through mailbox.Engine; a
// message is a POP3 number or an IMAP UID, typed, never converted into the
// other. TestBehaviourTable runs the engine's rules against both.
//
// The invariant that matters: a DELE or STORE is only sent for a message
// whose delivery was committed and made durable and whose UID is durably
// recorded, so a crash at any point loses nothing: an undelivered message
// is still on the server, a delivered but not yet deleted one is known by
// its UID and is deleted, not delivered again, on the next poll; the
// ledger's journals close the windows in between (package ledger).
//
// What lives as long as the process (the ledger of open journals, the
// memory of warnings sent) is held by the Runner (or one Run call) and
// passed down; the package keeps no such state in variables. The command
// line lives in cmd/gofetchmail and only maps flags onto Options and the
// config.
package fetch

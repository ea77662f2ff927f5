// Package pop3box is the mailbox of one POP3 session (RFC 1939) behind
// the engine's mailbox.Mailbox contract: STAT, UIDL and LIST list it
// (list.go), pipelined RETR streams it, DELE marks and QUIT expunges.
//
// Deletions are final only at QUIT, so the DELEs go out after the
// retrieval (they must not cut into pipelined RETR replies) and the UIDs of
// deleted messages are forgotten only after QUIT answered (Box.Finish).
// The engine (package fetch) logs in, and splits a poll into several such
// sessions under "expunge N" (Options.Skip).
package pop3box

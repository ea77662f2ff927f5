// Package bounce decides and writes the mail gofetchmail sends itself, as
// fetchmail does (see docs/delivery.md):
//
//   - a bounce (deliver.DSN, RFC 3464) when the MTA refused a message
//     permanently and the message is deleted (set no softbounce), or
//     refused some of its recipients while the others (or the postmaster,
//     who gets a message all of whose recipients were refused) got it: to
//     the sender with bouncemail (the default), to the postmaster with no
//     bouncemail, never in reply to a bounce; antispam refusals only with
//     spambounce, 553 (bad sender domain) never;
//   - the text of the oversized-messages warning a detached daemon mails to
//     the local user (the postmaster for a multidrop entry) about the
//     messages a poll left on the server (limit) or deleted (limitflush).
//
// Contract: a Mailer sends through the function it is given, so the caller
// chooses the transport (fetch hands bounces to the entry's SMTP hosts,
// SMTP on localhost for an LMTP entry); a bounce that cannot be sent is
// logged and changes nothing else (the message is deleted all the same, as
// in fetchmail). When to send the oversized warning, and the memory of
// when it was last sent, are the caller's. The package holds no mutable
// state.
package bounce

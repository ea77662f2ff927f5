// Package envelope decides a fetched message's envelope from what its
// sender wrote, trusting none of it further than it was checked: the
// envelope sender (Return-Path, else From, as an RFC 5321 Mailbox or the
// null sender), the local recipients of a multidrop entry (the envelope
// header or To/Cc/Bcc, the server's names, aka, localdomains, qvirtual,
// the local names and a wildcard that takes only plain local names), the
// dns option's check that a domain is one of the server's names, and the
// Received trace header fetchmail adds.
//
// Contract: the header is only peeked at (HeaderPeek bytes, up to the
// first empty line), never consumed, so the message still streams; what
// must live for the process (the dns answers) is an AliasCache made once
// and handed down by its owner (fetch's Runner, through fetch.Options); the
// package holds no mutable state of its own and logs nothing.
package envelope

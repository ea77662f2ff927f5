// Package sasl is every SASL client gofetchmail speaks (RFC 4422), written
// once for POP3 AUTH (RFC 5034), IMAP AUTHENTICATE (RFC 3501 section
// 6.2.2) and SMTP AUTH (RFC 4954):
//
//   - PLAIN (RFC 4616) and LOGIN (draft-murchison-sasl-login): the
//     password itself, so only inside TLS or SSH or on purpose;
//   - CRAM-MD5 (RFC 2195): the HMAC-MD5 of the server's challenge keyed
//     with the password, which never crosses the wire;
//   - OAUTHBEARER (RFC 7628) and XOAUTH2 (Google's and Microsoft's form of
//     the same bearer token, one-step with the token on the command line or
//     two-step after the server's empty challenge);
//   - EXTERNAL (RFC 4422 appendix A): the identity the transport proved
//     (a TLS client certificate).
//
// Guard is the one place a protocol client turns a mechanism's client into
// what goes on the wire: every response is recorded in the connection's
// redact.Set before it is sent (so a server that echoes it cannot put it in
// a log line), and the exchange is cut off after MaxChallenges challenges
// (a server that answers "+ " for ever is hostile or broken). Package
// internal/redact stays the scrubbing helper; this package decides which
// forms of a login it must scrub.
package sasl

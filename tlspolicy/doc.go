// Package tlspolicy is the one place that decides TLS and cleartext for a
// poll, POP3 and IMAP alike: the TLS client configuration of an rc entry
// (sslproto, sslcert/sslkey, sslcertfile/sslcertpath, sslcommonname), the
// check of the server's certificate by fetchmail's rules (sslfingerprint
// pins it whatever sslcertck says; sslcertck checks chain and name), the
// one-line CertError a user can act on, whether STLS/STARTTLS must or may
// be used (RFC 2595 section 4, RFC 3501 section 6.2.1), and whether a
// password may cross the connection in clear.
//
// Contract: the decisions are functions of the rc entry and of how the
// bytes travel (a Path), nothing else; the package does no I/O but the
// handshake it is asked for and the certificate files the entry names, and
// it holds no mutable state.
package tlspolicy

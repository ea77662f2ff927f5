package envelope

// What a hostile sender may not make the wildcard do. With "*" among an
// entry's local names, the user part of an address the sender wrote
// becomes a recipient: it is handed to the MTA in RCPT TO (as
// user@smtpaddress), to an MDA as %T, and named in the Received header.
// A user part that is itself a route would make the MTA relay the message
// outside: "victim@attacker.example"@mx.example.org (quoted, or bare in an
// address net/mail does not accept) would go to RCPT TO as is, and
// victim%attacker.example or attacker.example!victim are the %-hack and
// UUCP paths most MTAs still honour for local domains (Postfix's
// allow_percent_hack, swap_bangpath). Source routes (@a,@b:user), comments,
// RFC 2047 encoded words, quotes and control characters are no more a
// local user's name. So the wildcard takes a user part only when it is
// plainly a local name: maxWildcardLocal octets at most of ASCII letters,
// digits and . _ + = -, not starting with '-' or '.'. Anything else is
// treated as an unknown user (the message goes to the other recipients, or
// to the postmaster), never forwarded. fetchmail 6.4.37 hands all of them
// to the MTA (RCPT TO:<"victim@attacker.example"@mx.example.org>,
// <victim%attacker.example@mx.example.org>, ...) and leaves the rest to
// it; a "remote=local" mapping or a plain local name still
// matches whatever the rc file says, since the recipient is then the rc
// file's name, not the sender's string.

// maxWildcardLocal is RFC 5321 section 4.5.3.1.1's limit on a local part.
const maxWildcardLocal = 64

// wildcardLocalOK reports whether user may be delivered to through the
// wildcard.
func wildcardLocalOK(user string) bool {
	if user == "" || len(user) > maxWildcardLocal || user[0] == '-' || user[0] == '.' {
		return false
	}
	for i := 0; i < len(user); i++ {
		c := user[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.' || c == '_' || c == '+' || c == '=' || c == '-':
		default:
			return false
		}
	}
	return true
}

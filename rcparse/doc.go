// Package rcparse reads a fetchmail run-control file (.fetchmailrc) the way
// fetchmail 6.4.37 does: the same lexer (flex longest-match rules, name
// state after user/pass/is/to/=, decimal \ddd escapes, comments only at
// token start), the same grammar (server options before user options,
// implicit users, the "server option after user options" diagnostic that
// does not stop the parse) and the same post-parse rules (defaults record
// merged and dropped, built-in defaults, flag normalisation, port, LMTP and
// IDLE sanity checks).
//
// Parse and ParseFile return a *Config whose JSON form (DumpJSON) is the
// --configdump schema described in docs/configdump.md, the Warnings
// fetchmail would print on stderr, and an error: a *SyntaxError for
// everything fetchmail rejects with exit status 5.
//
// The grammar also accepts a few newer keywords (6.5: idletimeout,
// forceidle, auth implicit; 7.0: auth oauthbearer, passwordfile,
// passwordfd) and gofetchmail extensions (sshtunnel, maildir, mbox,
// tokencommand). They are recognised only where an option may start, so
// words like "mbox" stay usable as host, folder or user names.
package rcparse

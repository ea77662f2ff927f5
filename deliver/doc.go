// Package deliver stores fetched messages locally: into a Maildir, onto the
// end of an mbox file, or through an MDA command; or forwards them to an
// SMTP or LMTP server, or appends them to a batch SMTP (BSMTP) file.
//
// The promise the rest of gofetchmail builds on: a message may be deleted on
// the server only after it is durably delivered. Every Deliverer therefore
// works in transactions. The engine calls Begin, streams the message (LF line
// endings, headers first) with Write, then Commit; only after Commit returns
// nil (and, for a Batcher, after Sync returns nil) may it mark the message
// for deletion. On any error it calls Abort, which leaves no trace of the
// partial message, and the message stays on the server.
//
// # Maildir
//
// Maildir writes each message into tmp/, fsyncs the file, renames it into
// new/ and fsyncs new/. By default it is a Batcher: Commit only writes the
// file and starts its fsync in a bounded pool, and Sync waits for those
// fsyncs, does the renames and fsyncs new/ once, so N messages cost far fewer
// than N serial fsync waits (see BenchmarkMaildir). MaildirOptions.NoBatch
// makes every Commit durable by itself.
//
// github.com/emersion/go-maildir (v0.6.0) is used for its Dir type, whose
// Init creates tmp, new and cur (mode 0700), and in tests to read deliveries
// back. It is not used to write: its Delivery and Dir.Create never fsync
// anything (neither file nor directory), and its key generator is unexported,
// so this package makes its own unique names ("SECS.MusecPpidQnRrand.host")
// and does every fsync itself.
//
// # Mbox
//
// Mbox appends in the mboxrd format: a "From SENDER asctime" separator line
// (MAILER-DAEMON for an empty sender), one more '>' before every body line
// matching ^>*From␠ (correct across Write boundaries), and a blank line after
// each message. Begin takes an fcntl write lock and a PATH.lock dotlock
// (stale after 5 minutes, as procmail does), waiting up to LockTimeout, and
// records the file size; Commit fsyncs and unlocks; Abort truncates the file
// back to the recorded size.
//
// # MDA
//
// MDA runs fetchmail's "mda" command with /bin/sh -c for every message, the
// message on standard input. %F (sender) and %T or %s (recipients) reach the
// shell as an environment variable and positional parameters, never as text
// pasted into the script, so no address can inject shell code. Exit status 0
// commits; anything else is an *MDAError and the message is kept. Abort kills
// the process group before the MDA could see the end of a partial message.
//
// # SMTP and LMTP
//
// SMTP (github.com/emersion/go-smtp) forwards over one connection per run
// to the first host of the smtphost hunt list that answers; a "/path" host
// is a unix socket spoken to in LMTP. Begin sends MAIL FROM, RCPT TO and
// DATA; Commit returns nil only when the server accepted the message after
// the data (for LMTP: for every recipient), which makes it the server's
// responsibility. A refusal is an *SMTPError whose Permanent (5xx) and Spam
// (an antispam code) fields decide, in the engine, whether the message is
// kept (4xx, or softbounce) or deleted. Abort drops the connection before
// the final dot, so the server discards the partial message.
//
// # BSMTP
//
// BSMTP appends each message to a file (or standard output) as batch SMTP
// commands, CRLF and dot-stuffed, under flock; Abort truncates it back.
//
// # Header processing
//
// NewHeaderFilter wraps any writer (typically a Tx) with fetchmail's header
// options: rewrite, dropstatus, dropdelivered, stripcr/forcecr and
// mimedecode. Only the header block is held in memory.
package deliver

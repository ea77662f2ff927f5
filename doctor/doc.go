// Package doctor is "gofetchmail doctor [-f RC] [SERVER...]": a read-only
// check of every account of the rc file (or those named) that says, one
// line per step, what works (✔) and where it fails (✘), with the reason
// and the next thing to try, and stops an account at its first failure.
//
// The steps: the rc file (private, parses, the keywords gofetchmail reads
// differently from fetchmail, with their lines); then per account the
// route (DNS, TCP, the SSH host and its channel, the plugin, what a shell
// preconnect would run), TLS (the certificate, its names and expiry, the
// sslfingerprint line that would pin it), the login (mechanisms offered
// and the one used), the mailbox (size, messages new to the idfile) and
// the delivery target (maildir writable, mbox lockable, MDA executable,
// SMTP host answering). The server steps are fetch.Probe's; nothing is
// fetched, flagged or deleted, the idfile is only read.
//
// The exit status is 0 when every account is healthy, else fetchmail's
// status of the first failure (docs/options.md). No secret is printed: the
// messages come from the same code a poll uses, which masks passwords and
// tokens, and an rc-file password is masked once more in every line.
package doctor

// Package fetch is the engine of one poll: it ties the rc configuration,
// the transport, the POP3 session, the UID state and the deliverer together.
//
// One poll of one user entry runs, in order:
//
//	connect (TCP, TLS, STLS, in-process SSH channel, preconnect, plugin)
//	authenticate (APOP or USER/PASS)
//	list (STAT, UIDL, LIST) and choose messages by UID state
//	for each chosen message: RETR streamed -> Received header -> deliverer
//	make the batch durable (deliverer Sync), record the UIDs (idfile fsync'd)
//	DELE the durable messages, QUIT, forget the deleted UIDs
//
// The invariant that matters: a DELE is only sent for a message whose
// delivery was committed and made durable, and the UID of every delivered
// message is durably recorded before the QUIT that expunges it. A crash at
// any point therefore loses nothing: an undelivered message is still on the
// server, a delivered but not yet deleted one is known by its UID and is
// deleted, not delivered again, on the next poll.
//
// fetch is the only package that knows all the others; the command line lives
// in cmd/gofetchmail and only maps flags onto Options and the config.
package fetch

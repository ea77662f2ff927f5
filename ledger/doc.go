// Package ledger owns what gofetchmail remembers on disk about mail it has
// taken: the idfile (UIDStore, fetchmail's ~/.fetchids, with the codec of
// idfile_codec.go) and the batch journals that close the windows a kill
// could otherwise turn into a message delivered twice.
//
// One journal format for every target (journal.go): a file
// "<idfile>.journal-<kind>-<random>" per batch in progress, JSON lines, a
// head (kind, pid, account, target, mbox start offset) and one line per
// message (UID, maildir file key, mbox end offset). The kind says how the
// next run recovers it (recover.go):
//
//	maildir    staged in tmp/, journaled, published, recorded: recovery
//	           publishes what is staged and records what is really there
//	mbox       journaled from its first byte: recovery cuts an unrecorded
//	           batch back off the mbox (the server still has it all)
//	delivered  SMTP, LMTP, MDA, BSMTP: each UID whose delivery completed;
//	           recovery records them
//
// A delivery target brings its Committer, chosen once when the target
// opens (Ledger.Open): stage, journal, publish, record, drop. The engine
// only notes each delivered message and commits each batch; what is
// durable, and when, is this package's and deliver's business.
//
// A Ledger is a value held for the life of a process (the fetch Runner): it
// knows which journals are this process's open batches, which recovery must
// leave alone. The package has no mutable state of its own.
package ledger

package fetch

import (
	"log/slog"
	"sync"
	"time"

	"github.com/gofetchmail/gofetchmail/deliver"
	"github.com/gofetchmail/gofetchmail/envelope"
	"github.com/gofetchmail/gofetchmail/ledger"
	"github.com/gofetchmail/gofetchmail/secrets"
)

// Options are the run-wide settings of the engine that do not come from the
// rc file (command-line flags and the environment).
type Options struct {
	Logger  *slog.Logger
	Verbose int    // 1: protocol trace (-v), 2: debug (-v -v)
	Home    string // for ~/.ssh and the default mailbox

	NoBuiltinSSH bool // --no-builtin-ssh: run an ssh preconnect through /bin/sh

	Check bool // -c: count waiting messages, fetch nothing

	// Daemon is set for the polls of a daemon: as fetchmail's, it is
	// silent about a poll that found no mail unless Verbose.
	Daemon bool

	// SizeWarnings mails the oversized-messages warning (limit,
	// warnings). fetchmail sends it only from a daemon that detached
	// (set daemon / -d without --nodetach).
	SizeWarnings bool

	// Password prompts on a terminal (POP3 or SSH); nil means no prompting.
	Password func(prompt string) (string, error)

	// NetrcFile is the .netrc file that gives the passwords the rc file
	// does not (fetchmail's ~/.netrc); "" means none.
	NetrcFile string
	// Secrets remembers the password sources for the life of the process
	// (passwordfd read once, .netrc warnings said once): make one per
	// process; nil means one per Run call or per Runner.
	Secrets *secrets.Store
	// Resolver answers the multidrop dns checks; nil means
	// net.DefaultResolver.
	Resolver envelope.Resolver
	// Aliases remembers the answers of the dns checks for the life of the
	// process: make one per process; nil means one per Run call or per
	// Runner.
	Aliases *envelope.AliasCache
	notices *sync.Map      // the notices logOnce logged (process.go)
	ledger  *ledger.Ledger // the journals of open batches, the commits' turn (process.go)
	warned  *warnMemory    // the oversized-messages warnings sent (process.go)

	// NewDeliverer, if set, replaces the choice of delivery target (tests).
	NewDeliverer func(target string) (deliver.Deliverer, error)

	// BatchSize is how many delivered messages are made durable together
	// before their DELEs are sent; 0 means group commit: at least 64, more
	// while a commit would hold retrieval up (session.batchDue).
	BatchSize int

	Version  string
	Hostname string // local FQDN for the Received header; "" = os.Hostname
	Now      func() time.Time

	// OAuth2, if set, gives the token source of an account whose OAuth2
	// tokens the program manages (ManagesOAuth2); nil means
	// NewOAuth2Source with Home.
	OAuth2 func(j Job) (OAuth2Tokens, error)

	// Progress, if set, is called after each message of a poll's
	// retrieval (for a progress display on a terminal).
	Progress func(Progress)

	// PollDone, if set, is called with each entry's result as soon as its
	// poll ends, before the next entry's poll starts (so that an error is
	// reported next to the lines of its own poll).
	PollDone func(Result)
}

func (o *Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.Default()
	}
	return o.Logger
}

func (o *Options) done(r Result) {
	if o.PollDone != nil {
		o.PollDone(r)
	}
}

func (o *Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *Options) batchSize() int {
	if o.BatchSize <= 0 {
		return minBatch
	}
	return o.BatchSize
}

// Progress is where the retrieval of one poll stands.
type Progress struct {
	Poll        string // "remotename@pollname"
	Done, Total int    // messages handled and to handle in this poll
	Bytes       int64  // message bytes read so far
	TotalBytes  int64  // the sizes the server listed for the Total messages
	Elapsed     time.Duration
}

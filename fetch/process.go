package fetch

import (
	"sync"
	"time"

	"github.com/gofetchmail/gofetchmail/envelope"
	"github.com/gofetchmail/gofetchmail/ledger"
	"github.com/gofetchmail/gofetchmail/secrets"
)

// What must live as long as the process (what each passwordfd gave, the
// .netrc versions already warned about, the multidrop dns answers, the
// notices already logged, the ledger of the journals of open batches and
// the turn commits take, the oversized-messages warnings sent) is a value
// in Options, made once:
// by the caller for the whole process, else by NewRunner for the life of
// the Runner or by Run for one call. fetch keeps no package-level mutable
// state of it.

// fillProcess makes the process-wide values the caller did not give.
func (o *Options) fillProcess() {
	if o.Secrets == nil {
		o.Secrets = secrets.NewStore()
	}
	if o.Aliases == nil {
		o.Aliases = envelope.NewAliasCache()
	}
	if o.notices == nil {
		o.notices = &sync.Map{}
	}
	if o.ledger == nil {
		o.ledger = ledger.New()
	}
	if o.warned == nil {
		o.warned = &warnMemory{}
	}
}

// firstNotice reports whether key is logged for the first time in the life
// of o's process values (logOnce).
func (o *Options) firstNotice(key string) bool {
	if o.notices == nil { // a poll without Run or NewRunner (tests)
		o.notices = &sync.Map{}
	}
	_, seen := o.notices.LoadOrStore(key, true)
	return !seen
}

// secretStore is o.Secrets, made on first use when a poll runs without
// Run or NewRunner (tests that call pollOne).
func (o *Options) secretStore() *secrets.Store {
	if o.Secrets == nil {
		o.Secrets = secrets.NewStore()
	}
	return o.Secrets
}

// aliasCache is o.Aliases, made on first use as secretStore does.
func (o *Options) aliasCache() *envelope.AliasCache {
	if o.Aliases == nil {
		o.Aliases = envelope.NewAliasCache()
	}
	return o.Aliases
}

// theLedger is o.ledger, made on first use as secretStore does.
func (o *Options) theLedger() *ledger.Ledger {
	if o.ledger == nil {
		o.ledger = ledger.New()
	}
	return o.ledger
}

// warnings is o.warned, made on first use as secretStore does.
func (o *Options) warnings() *warnMemory {
	if o.warned == nil {
		o.warned = &warnMemory{}
	}
	return o.warned
}

// warnMemory holds, per idfile account key, when an oversized-messages
// warning was last sent by this process.
type warnMemory struct {
	mu   sync.Mutex
	last map[string]time.Time
}

func (w *warnMemory) get(key string) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.last[key]
	return t, ok
}

func (w *warnMemory) set(key string, t time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last == nil {
		w.last = map[string]time.Time{}
	}
	w.last[key] = t
}

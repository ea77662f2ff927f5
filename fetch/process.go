package fetch

import "github.com/gofetchmail/gofetchmail/secrets"

// What must live as long as the process (what each passwordfd gave, the
// .netrc versions already warned about) is a value in Options, made once:
// by the caller for the whole process, else by NewRunner for the life of
// the Runner or by Run for one call. fetch keeps no package-level mutable
// state of it.

// fillProcess makes the process-wide values the caller did not give.
func (o *Options) fillProcess() {
	if o.Secrets == nil {
		o.Secrets = secrets.NewStore()
	}
}

// secretStore is o.Secrets, made on first use when a poll runs without
// Run or NewRunner (tests that call pollOne).
func (o *Options) secretStore() *secrets.Store {
	if o.Secrets == nil {
		o.Secrets = secrets.NewStore()
	}
	return o.Secrets
}

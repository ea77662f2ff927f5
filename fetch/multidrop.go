package fetch

import (
	"context"
	"fmt"

	"github.com/gofetchmail/gofetchmail/envelope"
)

// hostAliasChecker is the dns check of one poll (session.alias).
type hostAliasChecker = envelope.AliasChecker

// entry is the job as package envelope sees it.
func (j Job) entry() envelope.Entry {
	return envelope.Entry{Config: j.Config, Server: j.Server, User: j.User}
}

// multidropTo is envelope.Recipients with the dns option: when the entry
// has it (the default), a domain none of the server's configured names
// matches is looked up, the answers remembered in the process's
// envelope.AliasCache (Options.Aliases). A DNS failure is returned: the
// message then stays on the server.
//
// A user part the wildcard refuses (see envelope/multidrop_safe.go) is
// logged, once per message, quoted so that nothing the sender wrote
// reaches the log raw.
func (s *session) multidropTo(ctx context.Context, fields []string) ([]string, error) {
	var isAlias func(context.Context, string) (bool, error)
	if s.job.Server.DNS {
		if s.alias == nil {
			s.alias = envelope.NewAliasChecker(s.opts.aliasCache(), s.opts.Resolver, queryName(s.job.Server), s.opts.now)
		}
		isAlias = s.alias.IsAlias
	}
	to, refused, err := envelope.Resolve(ctx, s.job.entry(), fields, isAlias)
	if err == nil && len(refused) > 0 {
		s.opts.logger().Warn(fmt.Sprintf("multidrop: not delivering to the local part %q (and %d more) through the wildcard: "+
			"only letters, digits and . _ + = - make a local name; the message goes to the other recipients or the postmaster", clipForLog(refused[0], 80), len(refused)-1))
	}
	return to, err
}

// clipForLog cuts s to at most n bytes for a log line.
func clipForLog(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

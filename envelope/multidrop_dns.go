package envelope

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"
)

// Resolver is the DNS the multidrop "dns" option asks; *net.Resolver
// implements it (fetch.Options.Resolver, nil meaning net.DefaultResolver).
type Resolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
	LookupCNAME(ctx context.Context, host string) (string, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
}

// The dns option (on by default; "no dns" turns it off) lets a multidrop
// entry recognise more of the mail server's names than the poll name, via
// and aka name: as fetchmail's is_host_alias does, an address's domain
// that none of those (nor localdomains) matches is looked up, and it is
// the server's when
//
//   - it has an address the server has, or
//   - its canonical name (CNAME chain) is the server's canonical name, or
//   - one of its MX hosts is the server (by canonical name or address).
//
// A name found to be the server's is remembered for the life of the
// process, as fetchmail adds it to the server's aka list; a name that is
// not is remembered for aliasNegativeTTL. A domain that does not exist is
// simply not local. Any other DNS failure (a timeout, a server failure)
// leaves the message on the server for the next poll rather than deliver
// it to the wrong local user or the postmaster.

// aliasNegativeTTL is how long "this name is not the server" is believed.
const aliasNegativeTTL = 10 * time.Minute

// DNSError reports a DNS failure other than "no such name" while checking
// whether a multidrop address names the mail server.
type DNSError struct {
	Name   string // the domain looked up
	Server string // the mail server's name
	Err    error
}

func (e *DNSError) Error() string {
	return fmt.Sprintf("nameserver failure while looking for %q during poll of %s: %v", e.Name, e.Server, e.Err)
}

func (e *DNSError) Unwrap() error { return e.Err }

// aliasEntry is one remembered answer.
type aliasEntry struct {
	alias bool
	at    time.Time
}

// AliasCache remembers the answers of the dns checks by server name and
// domain. Make one per process (fetch's Runner holds it, through
// fetch.Options) and share it between polls; it is safe for concurrent use.
type AliasCache struct {
	mu sync.Mutex
	m  map[string]aliasEntry
}

// NewAliasCache makes an empty AliasCache.
func NewAliasCache() *AliasCache { return &AliasCache{m: map[string]aliasEntry{}} }

func (a *AliasCache) load(key string) (aliasEntry, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.m[key]
	return e, ok
}

func (a *AliasCache) store(key string, e aliasEntry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.m[key] = e
}

// AliasChecker decides whether domains name one mail server, for one
// poll; what it learns goes to its AliasCache.
type AliasChecker struct {
	cache  *AliasCache
	res    Resolver
	server string // the server's name (via, else the poll name)
	now    func() time.Time

	once      bool
	canonical string   // the server's canonical name, lower case, no final dot
	addrs     []string // the server's addresses
	err       error
}

// NewAliasChecker makes the checker of one poll of server (via, else the
// poll name), remembering in cache (nil: remember for this checker only);
// res nil means net.DefaultResolver, now nil time.Now.
func NewAliasChecker(cache *AliasCache, res Resolver, server string, now func() time.Time) *AliasChecker {
	if cache == nil {
		cache = NewAliasCache()
	}
	if res == nil {
		res = net.DefaultResolver
	}
	if now == nil {
		now = time.Now
	}
	return &AliasChecker{cache: cache, res: res, server: server, now: now}
}

// isAlias reports whether domain is one of the server's names.
func (c *AliasChecker) IsAlias(ctx context.Context, domain string) (bool, error) {
	d := normName(domain)
	if d == "" {
		return false, nil
	}
	key := normName(c.server) + "\x00" + d
	if e, ok := c.cache.load(key); ok {
		if e.alias || c.now().Sub(e.at) < aliasNegativeTTL {
			return e.alias, nil
		}
	}
	alias, err := c.lookup(ctx, d)
	if err != nil {
		return false, err
	}
	c.cache.store(key, aliasEntry{alias: alias, at: c.now()})
	return alias, nil
}

// lookup asks the DNS.
func (c *AliasChecker) lookup(ctx context.Context, d string) (bool, error) {
	if err := c.serverNames(ctx); err != nil {
		return false, err
	}
	if d == c.canonical {
		return true, nil
	}
	if ip := strings.Trim(d, "[]"); net.ParseIP(ip) != nil {
		return slices.Contains(c.addrs, ip), nil
	}
	// Addresses first: /etc/hosts answers for names such as localhost.
	addrs, err := c.res.LookupHost(ctx, d)
	if err := c.failure(d, err); err != nil {
		return false, err
	}
	if err == nil && overlaps(addrs, c.addrs) {
		return true, nil
	}
	cname, err := c.res.LookupCNAME(ctx, d)
	if err := c.failure(d, err); err != nil {
		return false, err
	}
	if err == nil && normName(cname) == c.canonical {
		return true, nil
	}
	mxs, err := c.res.LookupMX(ctx, d)
	if err := c.failure(d, err); err != nil {
		return false, err
	}
	for _, mx := range mxs {
		h := normName(mx.Host)
		if h == c.canonical || h == normName(c.server) {
			return true, nil
		}
		if len(c.addrs) == 0 {
			continue
		}
		ma, err := c.res.LookupHost(ctx, h)
		if err := c.failure(h, err); err != nil {
			return false, err
		}
		if err == nil && overlaps(ma, c.addrs) {
			return true, nil
		}
	}
	return false, nil
}

// serverNames looks the server's canonical name and addresses up once. A
// server name that does not resolve (a tunnel's "localhost" alias, say)
// leaves only its name to compare with.
func (c *AliasChecker) serverNames(ctx context.Context) error {
	if c.once {
		return c.err
	}
	c.once = true
	c.canonical = normName(c.server)
	if net.ParseIP(c.canonical) != nil {
		c.addrs = []string{c.canonical}
		return nil
	}
	cname, err := c.res.LookupCNAME(ctx, c.server)
	if c.err = c.failure(c.server, err); c.err != nil {
		return c.err
	}
	if err == nil && cname != "" {
		c.canonical = normName(cname)
	}
	addrs, err := c.res.LookupHost(ctx, c.server)
	if c.err = c.failure(c.server, err); c.err != nil {
		return c.err
	}
	if err == nil {
		c.addrs = addrs
	}
	return nil
}

// failure turns a lookup error into a *DNSError unless it is "no such
// name" (or no records of the kind asked), which is an answer.
func (c *AliasChecker) failure(name string, err error) error {
	if err == nil {
		return nil
	}
	var de *net.DNSError
	if errors.As(err, &de) && de.IsNotFound {
		return nil
	}
	return &DNSError{Name: name, Server: c.server, Err: err}
}

func normName(s string) string { return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), ".")) }

func overlaps(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

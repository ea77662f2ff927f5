package envelope

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeResolver answers from its maps; a name it does not know does not
// exist. A name in fail gives a server failure. It counts the queries.
type fakeResolver struct {
	hosts  map[string][]string
	cnames map[string]string
	mxs    map[string][]string
	fail   map[string]bool
	n      *int
	mu     *sync.Mutex
}

func (f fakeResolver) count() {
	if f.n != nil {
		f.mu.Lock()
		*f.n++
		f.mu.Unlock()
	}
}

func notFound(name string) error {
	return &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (f fakeResolver) check(name string) error {
	f.count()
	if f.fail[strings.TrimSuffix(name, ".")] {
		return &net.DNSError{Err: "server misbehaving", Name: name, IsTemporary: true}
	}
	return nil
}

func (f fakeResolver) LookupHost(_ context.Context, host string) ([]string, error) {
	if err := f.check(host); err != nil {
		return nil, err
	}
	if c, ok := f.cnames[host]; ok { // as a real resolver, follow the CNAME
		host = c
	}
	if a, ok := f.hosts[host]; ok {
		return a, nil
	}
	return nil, notFound(host)
}

func (f fakeResolver) LookupCNAME(_ context.Context, host string) (string, error) {
	if err := f.check(host); err != nil {
		return "", err
	}
	if c, ok := f.cnames[host]; ok {
		return c + ".", nil
	}
	if _, ok := f.hosts[host]; ok {
		return host + ".", nil
	}
	return "", notFound(host)
}

func (f fakeResolver) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	if err := f.check(name); err != nil {
		return nil, err
	}
	var out []*net.MX
	for _, h := range f.mxs[name] {
		out = append(out, &net.MX{Host: h + ".", Pref: 10})
	}
	if out == nil {
		return nil, notFound(name)
	}
	return out, nil
}

// example is a small DNS: the server pop.example.org (CNAME of
// mail.example.org, 192.0.2.10), with names that point at it in each way
// fetchmail accepts, and names that do not.
func example() fakeResolver {
	return fakeResolver{
		hosts: map[string][]string{
			"mail.example.org":  {"192.0.2.10"},
			"alias.example.org": {"192.0.2.10"},   // same address
			"mx.example.org":    {"192.0.2.10"},   // the MX host, by address
			"other.example.net": {"198.51.100.7"}, // elsewhere
			"multi.example.org": {"203.0.113.1", "192.0.2.10"},
		},
		cnames: map[string]string{
			"pop.example.org": "mail.example.org",
			"www.example.org": "mail.example.org", // same canonical name
		},
		mxs: map[string][]string{
			"example.org":      {"mail.example.org"}, // MX is the server by name
			"corp.example.org": {"mx.example.org"},   // MX is the server by address
			"example.net":      {"mx.example.net"},   // MX elsewhere
		},
		fail: map[string]bool{"broken.example.org": true},
	}
}

// TestHostAlias checks each way a name can be the server's, and the names
// that are not, against a fake DNS.
func TestHostAlias(t *testing.T) {
	c := NewAliasChecker(nil, example(), "pop.example.org", time.Now)
	for name, want := range map[string]bool{
		"pop.example.org":   true,  // the server's own name
		"mail.example.org":  true,  // its canonical name
		"www.example.org":   true,  // a CNAME to the canonical name
		"alias.example.org": true,  // another name of its address
		"multi.example.org": true,  // one of its addresses is the server's
		"example.org":       true,  // MX is the server
		"corp.example.org":  true,  // MX host has the server's address
		"[192.0.2.10]":      true,  // an address literal of the server
		"other.example.net": false, // elsewhere
		"example.net":       false, // MX elsewhere
		"nowhere.invalid":   false, // does not exist
		"198.51.100.7":      false,
	} {
		got, err := c.IsAlias(context.Background(), name)
		if err != nil || got != want {
			t.Errorf("%s: %v, %v; want %v", name, got, err, want)
		}
	}
	_, err := c.IsAlias(context.Background(), "broken.example.org")
	var de *DNSError
	if !errors.As(err, &de) || de.Name != "broken.example.org" {
		t.Errorf("a server failure: %v, want a *DNSError naming the domain", err)
	}
}

// TestHostAliasRemembers: a name found to be the server's is not looked
// up again by a later poll's checker sharing the process's AliasCache; one
// found not to be is looked up again after aliasNegativeTTL. A checker
// with a cache of its own asks again.
func TestHostAliasRemembers(t *testing.T) {
	n := 0
	res := example()
	res.n, res.mu = &n, &sync.Mutex{}
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	res.cnames["remember.example.org"] = "mail.example.org"
	cache := NewAliasCache() // the process's: both checkers share it
	c := NewAliasChecker(cache, res, "remember.example.org", clock)
	ctx := context.Background()
	for _, name := range []string{"alias.example.org", "other.example.net"} {
		if _, err := c.IsAlias(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	before := n
	c2 := NewAliasChecker(cache, res, "remember.example.org", clock)
	c2.IsAlias(ctx, "alias.example.org")
	c2.IsAlias(ctx, "other.example.net")
	if n != before {
		t.Errorf("%d queries for names already answered, want 0", n-before)
	}
	c3 := NewAliasChecker(NewAliasCache(), res, "remember.example.org", clock)
	c3.IsAlias(ctx, "alias.example.org")
	if n == before {
		t.Errorf("a checker with another cache used this one's answers")
	}
	before = n
	now = now.Add(aliasNegativeTTL + time.Second)
	c2.IsAlias(ctx, "alias.example.org")
	if n != before {
		t.Errorf("a known alias was looked up again")
	}
	c2.IsAlias(ctx, "other.example.net")
	if n == before {
		t.Errorf("a negative answer outlived aliasNegativeTTL")
	}
}

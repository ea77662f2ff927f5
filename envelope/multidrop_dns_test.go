package envelope

import (
	"context"
	"errors"
	"github.com/gofetchmail/gofetchmail/envelope/envelopetest"
	"sync/atomic"
	"testing"
	"time"
)

// fakeResolver is the fake DNS of package envelopetest.
type fakeResolver = envelopetest.Resolver

// example is envelopetest.Example: the server pop.example.org and names
// that are, and are not, its aliases.
func example() fakeResolver { return envelopetest.Example() }

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
	var queries atomic.Int64
	res := example()
	res.Queries = &queries
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	res.CNAMEs["remember.example.org"] = "mail.example.org"
	cache := NewAliasCache() // the process's: both checkers share it
	c := NewAliasChecker(cache, res, "remember.example.org", clock)
	ctx := context.Background()
	for _, name := range []string{"alias.example.org", "other.example.net"} {
		if _, err := c.IsAlias(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	before := queries.Load()
	c2 := NewAliasChecker(cache, res, "remember.example.org", clock)
	c2.IsAlias(ctx, "alias.example.org")
	c2.IsAlias(ctx, "other.example.net")
	if queries.Load() != before {
		t.Errorf("%d queries for names already answered, want 0", queries.Load()-before)
	}
	c3 := NewAliasChecker(NewAliasCache(), res, "remember.example.org", clock)
	c3.IsAlias(ctx, "alias.example.org")
	if queries.Load() == before {
		t.Errorf("a checker with another cache used this one's answers")
	}
	before = queries.Load()
	now = now.Add(aliasNegativeTTL + time.Second)
	c2.IsAlias(ctx, "alias.example.org")
	if queries.Load() != before {
		t.Errorf("a known alias was looked up again")
	}
	c2.IsAlias(ctx, "other.example.net")
	if queries.Load() == before {
		t.Errorf("a negative answer outlived aliasNegativeTTL")
	}
}

// Package envelopetest is a fake DNS for tests of the multidrop dns check
// (envelope.Resolver): no test reaches a real resolver.
package envelopetest

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
)

// Resolver answers from its maps; a name it does not know does not exist
// (IsNotFound). A name in Fail gives a temporary server failure. When
// Queries is set, every query adds one to it.
type Resolver struct {
	Hosts   map[string][]string // name -> addresses
	CNAMEs  map[string]string   // name -> canonical name (followed by LookupHost)
	MXs     map[string][]string // domain -> MX hosts
	Fail    map[string]bool
	Queries *atomic.Int64
}

func notFound(name string) error {
	return &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (f Resolver) check(name string) error {
	if f.Queries != nil {
		f.Queries.Add(1)
	}
	if f.Fail[strings.TrimSuffix(name, ".")] {
		return &net.DNSError{Err: "server misbehaving", Name: name, IsTemporary: true}
	}
	return nil
}

// LookupHost follows a CNAME, as a real resolver does.
func (f Resolver) LookupHost(_ context.Context, host string) ([]string, error) {
	if err := f.check(host); err != nil {
		return nil, err
	}
	if c, ok := f.CNAMEs[host]; ok {
		host = c
	}
	if a, ok := f.Hosts[host]; ok {
		return a, nil
	}
	return nil, notFound(host)
}

// LookupCNAME answers the canonical name, fully qualified.
func (f Resolver) LookupCNAME(_ context.Context, host string) (string, error) {
	if err := f.check(host); err != nil {
		return "", err
	}
	if c, ok := f.CNAMEs[host]; ok {
		return c + ".", nil
	}
	if _, ok := f.Hosts[host]; ok {
		return host + ".", nil
	}
	return "", notFound(host)
}

// LookupMX answers the MX hosts, fully qualified, all of preference 10.
func (f Resolver) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	if err := f.check(name); err != nil {
		return nil, err
	}
	var out []*net.MX
	for _, h := range f.MXs[name] {
		out = append(out, &net.MX{Host: h + ".", Pref: 10})
	}
	if out == nil {
		return nil, notFound(name)
	}
	return out, nil
}

// Example is a small DNS: the server pop.example.org (CNAME of
// mail.example.org, 192.0.2.10), with names that point at it in each way
// fetchmail accepts, and names that do not. Each call returns new maps.
func Example() Resolver {
	return Resolver{
		Hosts: map[string][]string{
			"mail.example.org":  {"192.0.2.10"},
			"alias.example.org": {"192.0.2.10"},   // same address
			"mx.example.org":    {"192.0.2.10"},   // the MX host, by address
			"other.example.net": {"198.51.100.7"}, // elsewhere
			"multi.example.org": {"203.0.113.1", "192.0.2.10"},
		},
		CNAMEs: map[string]string{
			"pop.example.org": "mail.example.org",
			"www.example.org": "mail.example.org", // same canonical name
		},
		MXs: map[string][]string{
			"example.org":      {"mail.example.org"}, // MX is the server by name
			"corp.example.org": {"mx.example.org"},   // MX is the server by address
			"example.net":      {"mx.example.net"},   // MX elsewhere
		},
		Fail: map[string]bool{"broken.example.org": true},
	}
}

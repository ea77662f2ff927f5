package fetch

import (
	"context"
	"errors"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/gofetchmail/gofetchmail/envelope"
	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
	"github.com/gofetchmail/gofetchmail/rcparse"
)

func multidropJob(t *testing.T, src string) Job {
	t.Helper()
	cfg, _, err := rcparse.Parse("t.rc", []byte(src), rcparse.Options{User: "tester", Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return Job{Config: cfg, Server: cfg.Servers[0], User: cfg.Servers[0].Users[0]}
}

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

// TestMultidropDNS runs the multidrop mapping with dns and with no dns:
// an address at another name of the server reaches its local user only
// with dns; a DNS failure keeps the message (an error).
func TestMultidropDNS(t *testing.T) {
	header := envelope.UnfoldHeader([]byte("To: kilo@www.example.org, stranger@other.example.net\nCc: lima@example.org\n"))
	for _, c := range []struct {
		rc   string
		want []string
	}{
		{`poll pop.example.org proto pop3 no envelope user "box" there is kilo lima here password x`, []string{"kilo", "lima"}},
		{`poll pop.example.org proto pop3 no envelope no dns user "box" there is kilo lima here password x`, []string{"pm"}},
		{`poll pop.example.org proto pop3 no envelope no dns aka example.org user "box" there is kilo lima here password x`, []string{"kilo", "lima"}},
	} {
		j := multidropJob(t, "set postmaster pm\n"+c.rc)
		s := &session{job: j, opts: &Options{Resolver: example()}}
		got, err := s.multidropTo(context.Background(), header)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n  %v, %v; want %v", c.rc, got, err, c.want)
		}
	}
	j := multidropJob(t, `poll pop.example.org proto pop3 no envelope user "box" there is kilo lima here password x`)
	s := &session{job: j, opts: &Options{Resolver: example()}}
	_, err := s.multidropTo(context.Background(), envelope.UnfoldHeader([]byte("To: kilo@broken.example.org\n")))
	var de *envelope.DNSError
	if !errors.As(err, &de) {
		t.Errorf("a DNS failure: %v, want a *DNSError", err)
	}
}

// TestPollMultidropDNSFailureKeepsMail: a nameserver failure while
// mapping a multidrop message leaves it on the server; the next message,
// which needs no lookup, is delivered.
func TestPollMultidropDNSFailureKeepsMail(t *testing.T) {
	msgs := []pop3test.Message{
		{UID: "dns1", Data: []byte("From: a@example.org\nTo: kilo@broken.example.org\nSubject: 1\n\nhi\n")},
		{UID: "dns2", Data: []byte("From: a@example.org\nTo: lima@127.0.0.1\nSubject: 2\n\nhi\n")},
	}
	e := newTestEnv(t, msgs, nil)
	e.opts.Resolver = example()
	e.job.User.Localnames = []rcparse.LocalName{{Local: "kilo"}, {Local: "lima"}}
	e.job.Server.Envelope = nil
	res := e.poll(t)
	if res.Delivered != 1 || res.Deleted != 1 {
		t.Errorf("result %+v, want 1 delivered and deleted", res)
	}
	if left := e.mbox.Messages(); len(left) != 1 || left[0].UID != "dns1" {
		t.Errorf("left on the server: %v, want dns1", left)
	}
	if !strings.Contains(e.log.String(), "nameserver failure while looking for") || !strings.Contains(e.log.String(), "broken.example.org") {
		t.Errorf("log:\n%s", e.log)
	}
}

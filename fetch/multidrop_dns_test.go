package fetch

import (
	"context"
	"errors"
	"github.com/gofetchmail/gofetchmail/envelope/envelopetest"
	"reflect"
	"strings"
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

// fakeResolver is the fake DNS of package envelopetest.
type fakeResolver = envelopetest.Resolver

// example is envelopetest.Example: the server pop.example.org and names
// that are, and are not, its aliases.
func example() fakeResolver { return envelopetest.Example() }

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

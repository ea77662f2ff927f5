package bounce

import (
	"testing"

	"github.com/gofetchmail/gofetchmail/deliver"
	"github.com/gofetchmail/gofetchmail/rcparse"
)

// TestBounceReason: fetchmail's choice of reason, and the refusals it
// never bounces (553; antispam codes unless spambounce).
func TestBounceReason(t *testing.T) {
	cfg := &rcparse.Config{Bouncemail: true}
	spamCfg := &rcparse.Config{Bouncemail: true, Spambounce: true}
	for _, c := range []struct {
		cfg  *rcparse.Config
		se   deliver.SMTPError
		want string
		ok   bool
	}{
		{cfg, deliver.SMTPError{Code: 550, Stage: "end of data"}, "General SMTP/ESMTP error.", true},
		{cfg, deliver.SMTPError{Code: 550, Stage: "RCPT TO"}, "Some addresses were rejected by the MDA fetchmail forwards to.", true},
		{cfg, deliver.SMTPError{Code: 552, Stage: "end of data"}, "This message was too large (SMTP error 552).", true},
		{cfg, deliver.SMTPError{Code: 553, Stage: "MAIL FROM"}, "", false},
		{cfg, deliver.SMTPError{Code: 571, Stage: "MAIL FROM", Spam: true}, "", false},
		{spamCfg, deliver.SMTPError{Code: 571, Stage: "MAIL FROM", Spam: true, Message: "spam"},
			"spam filter or virus scanner rejected message because: 571 spam", true},
	} {
		got, ok := Reason(c.cfg, &c.se)
		if got != c.want || ok != c.ok {
			t.Errorf("%+v: %q %v, want %q %v", c.se, got, ok, c.want, c.ok)
		}
	}
}

// TestBounceRecipient: sender, postmaster, or nobody.
func TestBounceRecipient(t *testing.T) {
	on := &rcparse.Config{Bouncemail: true, Postmaster: "pm"}
	off := &rcparse.Config{Bouncemail: false, Postmaster: "pm"}
	for _, c := range []struct {
		cfg          *rcparse.Config
		sender, want string
	}{
		{on, "a@example.org", "a@example.org"},
		{on, "<a@example.org>", "a@example.org"},
		{off, "a@example.org", "pm"},
		{on, "", ""},
		{off, "<>", ""},
		{on, "mailer-daemon@mx.example.org", ""},
		{off, "MAILER-DAEMON", ""},
	} {
		if got := Recipient(c.cfg, c.sender); got != c.want {
			t.Errorf("bouncemail=%v sender %q: %q, want %q", c.cfg.Bouncemail, c.sender, got, c.want)
		}
	}
}

// TestNeeded: an Info is kept only where a bounce may follow: an MTA
// target, and a postmaster or no softbounce or several recipients.
func TestNeeded(t *testing.T) {
	soft := &rcparse.Config{Softbounce: true}
	softPM := &rcparse.Config{Softbounce: true, Postmaster: "pm"}
	hard := &rcparse.Config{}
	for _, c := range []struct {
		cfg    *rcparse.Config
		viaMTA bool
		to     []string
		want   bool
	}{
		{hard, false, []string{"a", "b"}, false},
		{soft, true, []string{"a"}, false},
		{soft, true, []string{"a", "b"}, true},
		{softPM, true, []string{"a"}, true},
		{hard, true, []string{"a"}, true},
		{nil, true, []string{"a"}, false},
	} {
		if got := Needed(c.cfg, c.viaMTA, c.to); got != c.want {
			t.Errorf("%+v via MTA %v to %v: %v, want %v", c.cfg, c.viaMTA, c.to, got, c.want)
		}
	}
}

// TestSMTPHosts: bounces go to the entry's SMTP hosts, never to an LMTP
// socket or an LMTP server; else to SMTP on localhost.
func TestSMTPHosts(t *testing.T) {
	for _, c := range []struct {
		so   deliver.SMTPOptions
		want []string
	}{
		{deliver.SMTPOptions{Hosts: []string{"mx1", "/run/lmtp", "mx2"}}, []string{"mx1", "mx2"}},
		{deliver.SMTPOptions{Hosts: []string{"/run/lmtp"}}, []string{"localhost"}},
		{deliver.SMTPOptions{Hosts: []string{"lmtp.example.org"}, LMTP: true}, []string{"localhost"}},
	} {
		got := SMTPHosts(c.so)
		if got.LMTP || got.Name != "" || len(got.Hosts) != len(c.want) {
			t.Errorf("%+v: %+v, want hosts %v", c.so, got, c.want)
			continue
		}
		for i := range c.want {
			if got.Hosts[i] != c.want[i] {
				t.Errorf("%+v: hosts %v, want %v", c.so, got.Hosts, c.want)
			}
		}
	}
}

func TestOversizedBody(t *testing.T) {
	got := OversizedBody("pop.example.org", "box", false, []int64{300, 200, 300})
	want := "The following oversized messages remain on server pop.example.org account box:\n\n" +
		"  2 messages 300 octets long skipped by fetchmail.\n" +
		"  1 message  200 octets long skipped by fetchmail.\n\n"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	if got := OversizedBody("p", "b", true, []int64{1}); got != "The following oversized messages were deleted on server p account b:\n\n  1 message  1 octets long deleted by fetchmail.\n\n" {
		t.Errorf("limitflush: %q", got)
	}
}

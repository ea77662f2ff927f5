package sasl

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/gofetchmail/gofetchmail/internal/redact"
)

// TestCramMD5RFC2195 is the example of RFC 2195 section 2.
func TestCramMD5RFC2195(t *testing.T) {
	c := CramMD5("tim", "tanstaaftanstaaf")
	mech, ir, err := c.Start()
	if mech != "CRAM-MD5" || ir != nil || err != nil {
		t.Fatalf("Start = %q %q %v", mech, ir, err)
	}
	resp, err := c.Next([]byte("<1896.697170952@postoffice.reston.mci.net>"))
	if err != nil || string(resp) != "tim b913a602c7eda7a495b4e6e7334d3890" {
		t.Fatalf("Next = %q %v", resp, err)
	}
	if _, err := c.Next([]byte("again")); err == nil {
		t.Error("a second challenge was answered")
	}
}

func TestXOAuth2Forms(t *testing.T) {
	want := "user=joe\x01auth=Bearer tok\x01\x01"
	_, ir, _ := XOAuth2("joe", "tok", false).Start()
	if string(ir) != want {
		t.Errorf("one-step initial response %q", ir)
	}
	two := XOAuth2("joe", "tok", true)
	if _, ir, _ := two.Start(); ir != nil {
		t.Errorf("two-step sent %q with the command", ir)
	}
	if resp, _ := two.Next([]byte{}); string(resp) != want {
		t.Errorf("two-step answer %q", resp)
	}
	if resp, _ := two.Next([]byte(`{"status":"401"}`)); resp == nil || len(resp) != 0 {
		t.Errorf("error challenge answered %q, want empty", resp)
	}
}

func TestOAuthBearerErrorChallenge(t *testing.T) {
	c := OAuthBearer("joe", "tok", "mail.example.org", 993)
	_, ir, _ := c.Start()
	if !strings.Contains(string(ir), "auth=Bearer tok") || !strings.Contains(string(ir), "host=mail.example.org") {
		t.Errorf("initial response %q", ir)
	}
	if resp, _ := c.Next([]byte(`{"status":"invalid_token"}`)); string(resp) != "\x01" {
		t.Errorf("error challenge answered %q, want %%x01 (RFC 7628 section 3.2.3)", resp)
	}
}

func TestPasswordByName(t *testing.T) {
	for _, m := range []string{"CRAM-MD5", "PLAIN", "LOGIN"} {
		c := Password(m, "joe", "pw")
		if c == nil {
			t.Fatalf("%s: no client", m)
		}
		if mech, _, _ := c.Start(); mech != m {
			t.Errorf("%s: mechanism %s", m, mech)
		}
	}
	if Password("USER", "joe", "pw") != nil {
		t.Error("USER is not a SASL mechanism")
	}
}

// endless answers every challenge, as XOAUTH2 and OAUTHBEARER do.
type endless struct{}

func (endless) Start() (string, []byte, error) { return "X", nil, nil }
func (endless) Next(c []byte) ([]byte, error)  { return []byte{1}, nil }

func TestBoundEndsEndlessExchange(t *testing.T) {
	c := Guard(endless{}, nil)
	for i := 0; i < MaxChallenges; i++ {
		if _, err := c.Next(nil); err != nil {
			t.Fatalf("challenge %d: %v", i+1, err)
		}
	}
	if _, err := c.Next(nil); !errors.Is(err, ErrTooManyChallenges) {
		t.Fatalf("challenge %d: err = %v", MaxChallenges+1, err)
	}
}

// TestGuardRecordsWireForms: what Guard lets out is masked when a server
// echoes it back, in base64 as sent and raw.
func TestGuardRecordsWireForms(t *testing.T) {
	var set redact.Set
	c := Guard(Plain("joe", "hunter22"), &set)
	_, ir, _ := c.Start()
	echo := "-ERR bad AUTH PLAIN " + base64.StdEncoding.EncodeToString(ir) + " raw " + string(ir)
	if got := set.Scrub(echo); strings.Contains(got, "hunter22") || strings.Contains(got, base64.StdEncoding.EncodeToString(ir)) {
		t.Errorf("echo not masked: %q", got)
	}
	var set2 redact.Set
	c = Guard(CramMD5("joe", "pw"), &set2)
	c.Start()
	resp, _ := c.Next([]byte("<1.2@x>"))
	if got := set2.Scrub("NO " + string(resp)); strings.Contains(got, string(resp[4:])) {
		t.Errorf("CRAM-MD5 digest not masked: %q", got)
	}
}

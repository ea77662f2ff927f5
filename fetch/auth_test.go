package fetch

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/gofetchmail/gofetchmail/pop3"
	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
	"github.com/gofetchmail/gofetchmail/transport"
)

// plain is the opt-out that lets the fake (on loopback) see passwords.
const plain = "sslproto ''"

func TestAuthAnyPrefersCramMD5(t *testing.T) {
	e := newTestEnv(t, testMessages(1), &pop3test.ServerOptions{SASL: []string{"PLAIN", "CRAM-MD5"}})
	res := e.poll(t)
	if res.Status != StatusSuccess {
		t.Fatalf("result %+v\n%s", res, e.log)
	}
	if !strings.Contains(e.log.String(), "POP3> AUTH CRAM-MD5") || strings.Contains(e.log.String(), "POP3> PASS") {
		t.Errorf("auth any did not use CRAM-MD5:\n%s", e.log)
	}
}

func TestAuthMethods(t *testing.T) {
	refuseUser := func(cmd string) (string, bool) {
		if strings.HasPrefix(cmd, "USER") {
			return "-ERR USER/PASS disabled, use SASL", true
		}
		return "", false
	}
	cases := []struct {
		name  string
		opts  pop3test.ServerOptions
		auth  string // server options
		extra string // user options
		want  Status
		trace string // a line the trace must hold
	}{
		{"cram-md5", pop3test.ServerOptions{SASL: []string{"CRAM-MD5"}}, "auth cram-md5", "", StatusSuccess, "AUTH CRAM-MD5"},
		{"cram-md5 wrong", pop3test.ServerOptions{SASL: []string{"CRAM-MD5"}}, "auth cram-md5", "password nope", StatusAuthFail, "AUTH CRAM-MD5"},
		{"cram-md5 not offered", pop3test.ServerOptions{SASL: []string{"PLAIN"}}, "auth cram-md5", "", StatusAuthFail, ""},
		{"password falls back to PLAIN", pop3test.ServerOptions{SASL: []string{"PLAIN"}, Hook: refuseUser}, "auth password", "", StatusSuccess, "AUTH PLAIN *****"},
		{"password falls back to LOGIN", pop3test.ServerOptions{SASL: []string{"LOGIN"}, Hook: refuseUser}, "auth password", "", StatusSuccess, "AUTH LOGIN"},
		{"apop", pop3test.ServerOptions{APOPTimestamp: true}, "", "", StatusSuccess, "APOP msingh *****"},
		{"oauthbearer", pop3test.ServerOptions{SASL: []string{"OAUTHBEARER", "XOAUTH2"}}, "auth oauthbearer", "", StatusSuccess, "AUTH OAUTHBEARER *****"},
		{"oauthbearer bad token", pop3test.ServerOptions{SASL: []string{"OAUTHBEARER"}}, "auth oauthbearer", "password expired", StatusAuthFail, "AUTH OAUTHBEARER"},
		{"xoauth2 fallback", pop3test.ServerOptions{SASL: []string{"XOAUTH2"}}, "auth oauthbearer", "", StatusSuccess, "AUTH XOAUTH2 *****"},
		{"xoauth2 bad token", pop3test.ServerOptions{SASL: []string{"XOAUTH2"}}, "auth oauthbearer", "password expired", StatusAuthFail, "AUTH XOAUTH2"},
		{"xoauth2 two-step", pop3test.ServerOptions{SASL: []string{"XOAUTH2"}, XOAuth2TwoStep: true}, "auth oauthbearer", "", StatusSuccess, "the two-step form"},
		{"tokencommand", pop3test.ServerOptions{SASL: []string{"OAUTHBEARER"}}, "auth oauthbearer", `password wrong tokencommand "echo foobar"`, StatusSuccess, "AUTH OAUTHBEARER"},
		{"tokencommand fails", pop3test.ServerOptions{SASL: []string{"OAUTHBEARER"}}, "auth oauthbearer", `tokencommand "exit 3"`, StatusAuthFail, ""},
		{"gssapi", pop3test.ServerOptions{}, "auth gssapi", "", StatusAuthFail, ""},
		{"ntlm", pop3test.ServerOptions{}, "auth ntlm", "", StatusAuthFail, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := c.opts
			e := newTestEnv(t, testMessages(1), &opts)
			src := strings.Replace(pollRC(e.srv.Addr, plain+" "+c.extra), "timeout 5", "timeout 5 "+c.auth, 1)
			if c.name == "apop" {
				src = strings.Replace(src, "proto pop3", "proto apop", 1)
			}
			if i := strings.Index(src, "password foobar"); strings.Contains(c.extra, "password ") {
				src = src[:i] + src[i+len("password foobar"):] // the case's own password
			}
			e.rejob(t, src)
			res := e.poll(t)
			if res.Status != c.want {
				t.Fatalf("status %d, want %d: %v\n%s", res.Status, c.want, res.Err, e.log)
			}
			if c.trace != "" && !strings.Contains(e.log.String(), c.trace) {
				t.Errorf("trace lacks %q:\n%s", c.trace, e.log)
			}
			if strings.Contains(e.log.String(), "foobar") {
				t.Errorf("the secret appears in the log:\n%s", e.log)
			}
			if (c.want == StatusSuccess) != (len(e.mbox.Messages()) == 0) {
				t.Errorf("%d messages left on the server", len(e.mbox.Messages()))
			}
		})
	}
}

// TestResponseCodes maps each RFC 2449/3206 code answered to PASS to
// fetchmail's exit status.
func TestResponseCodes(t *testing.T) {
	cases := map[string]Status{
		"-ERR [IN-USE] locked by another session": StatusLockBusy,
		"-ERR [LOGIN-DELAY] wait 10 minutes":      StatusLockBusy,
		"-ERR [AUTH] bad password":                StatusAuthFail,
		"-ERR invalid password":                   StatusAuthFail,
		"-ERR [SYS/TEMP] try again later":         StatusError,
		"-ERR [SYS/PERM] account disabled":        StatusError,
	}
	for reply, want := range cases {
		e := newTestEnv(t, testMessages(1), &pop3test.ServerOptions{Hook: func(cmd string) (string, bool) {
			return reply, strings.HasPrefix(cmd, "PASS")
		}})
		res := e.poll(t)
		if res.Status != want {
			t.Errorf("%s: status %d, want %d (%v)", reply, res.Status, want, res.Err)
		}
		if len(e.mbox.Messages()) != 1 {
			t.Errorf("%s: mail touched", reply)
		}
	}
}

// farConn is a connection that claims a non-loopback peer.
type farConn struct{ net.Conn }

func (farConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 110} }

func TestNoPasswordInClearOverNetwork(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	e := newTestEnv(t, nil, nil)
	cases := []struct {
		extra string
		route route
		conn  net.Conn
		ok    bool
	}{
		{"no sslcertck", route{kind: "tcp", host: "mail.example.org", port: 110}, farConn{a}, false},
		{"no sslcertck", route{kind: "tcp", host: "localhost", port: 110}, &net.TCPConn{}, false},
		{"no sslcertck", route{kind: "ssh", host: "mail", port: 110, sshTarget: transport.SSHTarget{Host: "mail"}}, farConn{a}, true},
		{"no sslcertck", route{kind: "ssh", host: "mail", port: 110, sshTarget: transport.SSHTarget{Host: "gw"}}, farConn{a}, false},
		{"no sslcertck sslproto ''", route{kind: "tcp", host: "mail.example.org", port: 110}, farConn{a}, true},
	}
	for _, c := range cases {
		e.rejob(t, pollRC("mail.example.org:110", c.extra))
		s := &session{job: e.job, opts: &e.opts, label: "msingh@mail", route: &c.route, conn: c.conn}
		s.client = pop3.NewClient(c.conn, nil)
		err := s.clearOK()
		if (err == nil) != c.ok {
			t.Errorf("%s via %s: %v", c.extra, c.route.kind, err)
		}
		if err != nil && (!errors.Is(err, ErrCleartext) || StatusOf(err) != StatusAuthFail || !strings.Contains(err.Error(), "sslproto ''")) {
			t.Errorf("refusal %v does not say which opt-out", err)
		}
	}
	e.rejob(t, pollRC("mail.example.org:110", "no sslcertck"))
	if err := (&session{job: e.job, opts: &e.opts, route: &route{kind: "tcp"}, conn: farConn{a}, client: pop3.NewClient(farConn{a}, nil)}).authenticate(context.Background(), pop3.Capabilities{"USER": nil}); !errors.Is(err, ErrCleartext) {
		t.Errorf("authenticate sent the password in clear: %v", err)
	}
}

func TestMicrosoftHost(t *testing.T) {
	for h, want := range map[string]bool{"outlook.office365.com": true, "OUTLOOK.COM.": true, "pop.gmail.com": false, "notoutlook.com": false} {
		if microsoftHost(h) != want {
			t.Errorf("%s: %v", h, !want)
		}
	}
}

func TestOpportunisticSTLS(t *testing.T) {
	cert := newTestCert(t)
	e := newTestEnv(t, testMessages(1), &pop3test.ServerOptions{TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert.tls}}})
	e.rejob(t, pollRC(e.srv.Addr, "no sslcertck"))
	if res := e.poll(t); res.Status != StatusSuccess {
		t.Fatalf("result %+v\n%s", res, e.log)
	}
	trace := e.log.String()
	if i, j := strings.Index(trace, "POP3> STLS"), strings.Index(trace, "POP3> USER"); i < 0 || j < i {
		t.Errorf("STLS not used before the login:\n%s", trace)
	}
}

func TestOpportunisticSTLSRefused(t *testing.T) {
	cert := newTestCert(t)
	e := newTestEnv(t, testMessages(1), &pop3test.ServerOptions{
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert.tls}},
		Hook: func(cmd string) (string, bool) {
			return "-ERR [SYS/TEMP] TLS unavailable", cmd == "STLS"
		},
	})
	e.rejob(t, pollRC(e.srv.Addr, "no sslcertck")) // loopback: plain text is allowed
	if res := e.poll(t); res.Status != StatusSuccess {
		t.Fatalf("result %+v\n%s", res, e.log)
	}
	if !strings.Contains(e.log.String(), "continuing without TLS") {
		t.Errorf("no warning:\n%s", e.log)
	}
}

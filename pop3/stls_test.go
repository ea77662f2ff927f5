package pop3_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"

	"github.com/gofetchmail/gofetchmail/pop3"
	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
)

// selfSigned returns a server certificate for 127.0.0.1 and a pool
// trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "pop3test"},
		DNSNames:     []string{"pop3test.invalid"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// TestSTLS upgrades a session the way the fetch code does: Cmd("STLS"),
// a TLS handshake over Conn, SetConn, then login over TLS.
func TestSTLS(t *testing.T) {
	ctx := context.Background()
	cert, pool := selfSigned(t)
	s := newServer(t, pop3test.NewMailbox(user, pass, fixtures[0]), &pop3test.ServerOptions{
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
	})
	for tr := range transports {
		t.Run(tr, func(t *testing.T) {
			c := connect(t, s, tr, nil)
			caps, err := c.Capa(ctx)
			if err != nil || !caps.Has("STLS") {
				t.Fatalf("CAPA = %v, %v; want STLS", caps, err)
			}
			if _, err := c.Cmd(ctx, "STLS"); err != nil {
				t.Fatalf("STLS: %v", err)
			}
			tc := tls.Client(c.Conn(), &tls.Config{RootCAs: pool, ServerName: "pop3test.invalid"})
			if err := tc.HandshakeContext(ctx); err != nil {
				t.Fatalf("handshake: %v", err)
			}
			c.SetConn(tc)
			login(t, c)
			if n, _, err := c.Stat(ctx); err != nil || n != 1 {
				t.Fatalf("STAT over TLS = %d, %v", n, err)
			}
			if err := c.Quit(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSTLSInjection: plaintext the server sends after its STLS reply must
// not be taken as a reply once TLS is up.
func TestSTLSInjection(t *testing.T) {
	s := newServer(t, pop3test.NewMailbox(user, pass), &pop3test.ServerOptions{
		Hook: func(cmd string) (string, bool) {
			return "+OK go ahead\r\n+OK injected\r\n", cmd == "STLS"
		},
	})
	// Over net.Pipe the server's single write (both lines) is read whole
	// into the client's buffer with the STLS reply.
	c := connect(t, s, "pipe", nil)
	ctx := context.Background()
	if _, err := c.Cmd(ctx, "STLS"); err != nil {
		t.Fatal(err)
	}
	c.SetConn(c.Conn()) // stands in for the TLS connection
	if err := c.Noop(ctx); err == nil || !strings.Contains(err.Error(), "before the TLS handshake") {
		t.Fatalf("NOOP after injected STLS reply = %v, want a protocol error", err)
	}
}

// TestAuthSASL checks AUTH PLAIN with an initial response, and that the
// credentials are masked in the trace.
func TestAuthSASL(t *testing.T) {
	var mu sync.Mutex
	var seen, traced []string
	s := newServer(t, pop3test.NewMailbox(user, pass), &pop3test.ServerOptions{
		Hook: func(cmd string) (string, bool) {
			if !strings.HasPrefix(cmd, "AUTH") {
				return "", false
			}
			mu.Lock()
			seen = append(seen, cmd)
			mu.Unlock()
			f := strings.Fields(cmd)
			if len(f) == 3 && f[1] == "PLAIN" {
				dec, _ := base64.StdEncoding.DecodeString(f[2])
				if string(dec) == "\x00"+user+"\x00"+pass {
					return "+OK logged in", true
				}
			}
			return "-ERR [AUTH] bad", true
		},
	})
	c := connect(t, s, "pipe", &pop3.Options{Timeout: generous, Trace: func(dir byte, line string) {
		mu.Lock()
		traced = append(traced, line)
		mu.Unlock()
	}})
	ctx := context.Background()
	if err := c.Auth(ctx, sasl.NewPlainClient("", user, "nope")); !pop3.IsAuthError(err) {
		t.Errorf("AUTH PLAIN bad = %v, want auth error", err)
	}
	if err := c.Auth(ctx, sasl.NewPlainClient("", user, pass)); err != nil {
		t.Fatalf("AUTH PLAIN = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 {
		t.Errorf("server saw %q", seen)
	}
	all := strings.Join(traced, "\n")
	if !strings.Contains(all, "AUTH PLAIN *****") || strings.Contains(all, base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00"+pass))) {
		t.Errorf("trace:\n%s", all)
	}
}

// TestAuthSASLChallenge runs a challenge round (AUTH LOGIN style) through
// Cmd, the raw path, checking the continuation lines are masked.
func TestAuthSASLChallenge(t *testing.T) {
	step := 0
	s := newServer(t, pop3test.NewMailbox(user, pass), &pop3test.ServerOptions{
		Hook: func(cmd string) (string, bool) {
			switch {
			case cmd == "AUTH LOGIN":
				step = 1
				return "+ " + base64.StdEncoding.EncodeToString([]byte("Username:")), true
			case step == 1:
				step = 2
				return "+ " + base64.StdEncoding.EncodeToString([]byte("Password:")), true
			case step == 2:
				step = 3
				if cmd == base64.StdEncoding.EncodeToString([]byte(pass)) {
					return "+OK welcome", true
				}
				return "-ERR [AUTH] bad", true
			}
			return "", false
		},
	})
	var traced []string
	c := connect(t, s, "pipe", &pop3.Options{Timeout: generous, Trace: func(dir byte, line string) {
		traced = append(traced, string(dir)+line)
	}})
	ctx := context.Background()
	if ch, err := c.Cmd(ctx, "AUTH LOGIN"); err != nil || ch != base64.StdEncoding.EncodeToString([]byte("Username:")) {
		t.Fatalf("AUTH LOGIN = %q, %v", ch, err)
	}
	c.Cmd(ctx, "%s", base64.StdEncoding.EncodeToString([]byte(user)))
	if _, err := c.Cmd(ctx, "%s", base64.StdEncoding.EncodeToString([]byte(pass))); err != nil {
		t.Fatalf("password step: %v", err)
	}
	// The exchange is over: commands are traced again.
	if _, err := c.Capa(ctx); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(traced, "\n")
	if !strings.Contains(all, ">CAPA") {
		t.Errorf("CAPA after AUTH not traced:\n%s", all)
	}
	if strings.Contains(all, base64.StdEncoding.EncodeToString([]byte(pass))) || strings.Count(all, ">*****") != 2 {
		t.Errorf("trace:\n%s", all)
	}
}

package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofetchmail/gofetchmail/pop3"
	"github.com/gofetchmail/gofetchmail/rcparse"
)

// tlsConfig builds the TLS client configuration for a user entry.
func tlsConfig(s *rcparse.Server, u *rcparse.User) (*tls.Config, error) {
	name := queryName(s)
	if u.SSLCommonname != nil && *u.SSLCommonname != "" {
		name = *u.SSLCommonname
	}
	cfg := &tls.Config{ServerName: name, MinVersion: tls.VersionTLS12}
	if u.SSLProto != nil {
		switch strings.ToLower(*u.SSLProto) {
		case "tls1.3", "tls1.3+":
			cfg.MinVersion = tls.VersionTLS13
		case "tls1.2":
			cfg.MaxVersion = tls.VersionTLS12
		}
	}
	if u.SSLCertfile != nil || u.SSLCertpath != nil {
		pool := x509.NewCertPool()
		if os.Getenv("FETCHMAIL_INCLUDE_DEFAULT_X509_CA_CERTS") != "" {
			if sys, err := x509.SystemCertPool(); err == nil {
				pool = sys
			}
		}
		var files []string
		if u.SSLCertfile != nil {
			files = append(files, *u.SSLCertfile)
		}
		if u.SSLCertpath != nil {
			m, _ := filepath.Glob(filepath.Join(*u.SSLCertpath, "*"))
			files = append(files, m...)
		}
		for _, f := range files {
			pem, err := os.ReadFile(f)
			if err != nil {
				if u.SSLCertfile != nil && f == *u.SSLCertfile {
					return nil, fmt.Errorf("sslcertfile: %w", err)
				}
				continue
			}
			pool.AppendCertsFromPEM(pem)
		}
		cfg.RootCAs = pool
	}
	if u.SSLCert != nil && *u.SSLCert != "" {
		key := *u.SSLCert
		if u.SSLKey != nil && *u.SSLKey != "" {
			key = *u.SSLKey
		}
		cert, err := tls.LoadX509KeyPair(*u.SSLCert, key)
		if err != nil {
			return nil, fmt.Errorf("sslcert: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if !u.SSLCertck {
		cfg.InsecureSkipVerify = true
	}
	return cfg, nil
}

// mustSTLS is fetchmail 6.4's rule: STLS is mandatory when ssl is off,
// sslproto is not the empty string and certificate checking (or a
// fingerprint, or an explicit sslproto) is on. Over the in-process SSH
// channel the bytes are already encrypted and authenticated, so gofetchmail
// does not demand it there.
func mustSTLS(u *rcparse.User, r *route) bool {
	if u.SSL || r.overSSH() {
		return false
	}
	if u.SSLProto != nil && *u.SSLProto == "" {
		return false
	}
	return u.SSLCertck || u.SSLFingerprint != nil || (u.SSLProto != nil && *u.SSLProto != "")
}

// handshake runs a TLS handshake bounded by the timeout and ctx.
func handshake(ctx context.Context, tc *tls.Conn, timeout time.Duration) error {
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return tc.HandshakeContext(hctx)
}

func (s *session) startTLS(ctx context.Context, caps pop3.Capabilities) error {
	srv, u := s.job.Server, s.job.User
	if !caps.Has("STLS") {
		return &Error{Poll: s.label, Status: StatusSocket, Err: fmt.Errorf("%w: the server does not offer STLS (add sslproto '' to the rc file to allow plain text)", errTLSUpgrade)}
	}
	if _, err := s.client.Cmd(ctx, "STLS"); err != nil {
		return &Error{Poll: s.label, Status: StatusSocket, Err: fmt.Errorf("%w: %v", errTLSUpgrade, err)}
	}
	cfg, err := tlsConfig(srv, u)
	if err != nil {
		return &Error{Poll: s.label, Status: StatusSocket, Err: err}
	}
	tc := tls.Client(s.client.Conn(), cfg)
	if err := handshake(ctx, tc, s.timeout()); err != nil {
		return &Error{Poll: s.label, Status: StatusSocket, Err: fmt.Errorf("%w: %s: %v", errTLSUpgrade, cfg.ServerName, err)}
	}
	s.client.SetConn(tc)
	return nil
}

// errTLSUpgrade is returned when the server cannot do STLS.
var errTLSUpgrade = errors.New("upgrade to TLS failed")

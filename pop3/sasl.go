package pop3

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
	"errors"

	"github.com/emersion/go-sasl"
)

// The SASL mechanisms go-sasl lacks: CRAM-MD5 (RFC 2195) and Google's and
// Microsoft's XOAUTH2.

// NewCramMD5Client returns a CRAM-MD5 client: it answers the server's
// challenge with the user name and the hex HMAC-MD5 of the challenge keyed
// with the password, so the password itself never crosses the wire.
func NewCramMD5Client(user, pw string) sasl.Client {
	return &cramMD5{user: user, pw: pw}
}

type cramMD5 struct {
	user, pw string
	done     bool
}

func (c *cramMD5) Start() (string, []byte, error) { return "CRAM-MD5", nil, nil }

func (c *cramMD5) Next(challenge []byte) ([]byte, error) {
	if c.done {
		return nil, errors.New("CRAM-MD5: unexpected second challenge")
	}
	c.done = true
	m := hmac.New(md5.New, []byte(c.pw))
	m.Write(challenge)
	return []byte(c.user + " " + hex.EncodeToString(m.Sum(nil))), nil
}

// NewXOAuth2Client returns an XOAUTH2 client for an OAuth2 access token.
// With twoStep unset the token goes with the AUTH command (Google's form);
// with twoStep set the AUTH command goes alone and the token follows the
// server's empty "+" (the form Microsoft's POP3 servers require). If the
// server answers the token with a challenge (a JSON error), the client
// sends the empty response XOAUTH2 asks for and the server ends with -ERR.
func NewXOAuth2Client(user, token string, twoStep bool) sasl.Client {
	return &xoauth2{ir: []byte("user=" + user + "\x01auth=Bearer " + token + "\x01\x01"), twoStep: twoStep}
}

type xoauth2 struct {
	ir      []byte
	twoStep bool
	sent    bool
}

func (x *xoauth2) Start() (string, []byte, error) {
	if x.twoStep {
		return "XOAUTH2", nil, nil
	}
	x.sent = true
	return "XOAUTH2", x.ir, nil
}

func (x *xoauth2) Next(challenge []byte) ([]byte, error) {
	if !x.sent {
		x.sent = true
		return x.ir, nil
	}
	return []byte{}, nil // acknowledge the error challenge
}

// NewOAuthBearerClient returns an OAUTHBEARER client (RFC 7628) for an
// OAuth2 access token. Unlike go-sasl's, it answers the server's error
// challenge with the dummy response %x01 the RFC asks for, so the failure
// arrives as the server's -ERR (an *Error, often with code AUTH).
func NewOAuthBearerClient(user, token, host string, port int) sasl.Client {
	return &oauthBearer{Client: sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: user, Token: token, Host: host, Port: port})}
}

type oauthBearer struct{ sasl.Client }

func (o *oauthBearer) Next(challenge []byte) ([]byte, error) { return []byte{0x01}, nil }

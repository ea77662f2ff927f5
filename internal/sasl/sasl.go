package sasl

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
	"errors"

	gosasl "github.com/emersion/go-sasl"
)

// Client is a SASL client mechanism (go-sasl's interface): Start names the
// mechanism and gives the initial response (nil for none), Next answers
// each server challenge.
type Client = gosasl.Client

// Plain is SASL PLAIN (RFC 4616) with an empty authorization identity.
func Plain(user, pw string) Client { return gosasl.NewPlainClient("", user, pw) }

// Login is SASL LOGIN: the user name, then the password, each answering a
// server challenge.
func Login(user, pw string) Client { return gosasl.NewLoginClient(user, pw) }

// External is SASL EXTERNAL (RFC 4422 appendix A) with an empty
// authorization identity: the server takes the identity the transport
// proved.
func External() Client { return gosasl.NewExternalClient("") }

// Password is the client of a password mechanism by its name (CRAM-MD5,
// PLAIN or LOGIN, as servers announce them); nil for any other name (the
// protocols' own logins: POP3 USER/PASS and APOP, IMAP LOGIN).
func Password(mech, user, pw string) Client {
	switch mech {
	case "CRAM-MD5":
		return CramMD5(user, pw)
	case "PLAIN":
		return Plain(user, pw)
	case "LOGIN":
		return Login(user, pw)
	}
	return nil
}

// CramMD5 is SASL CRAM-MD5 (RFC 2195 section 2): it answers the server's
// one challenge with the user name and the hex HMAC-MD5 of the challenge
// keyed with the password, so the password itself never crosses the wire.
func CramMD5(user, pw string) Client { return &cramMD5{user: user, pw: pw} }

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

// XOAuth2 is XOAUTH2 for an OAuth2 access token:
// "user=U ^A auth=Bearer T ^A ^A". With twoStep unset the token goes with
// the command (Google's form, the initial response of RFC 4422 section
// 3.3); with twoStep set the command goes alone and the token follows the
// server's empty challenge (the form Microsoft's servers require). If the
// server answers the token with a challenge (a JSON error), the client
// sends the empty response XOAUTH2 asks for and the server ends the
// exchange with its failure.
func XOAuth2(user, token string, twoStep bool) Client {
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

// OAuthBearer is OAUTHBEARER (RFC 7628) for an OAuth2 access token. Unlike
// go-sasl's, it answers the server's error challenge with the dummy
// response %x01 the RFC asks for (section 3.2.3), so the failure arrives as
// the server's own answer (POP3 -ERR, IMAP NO, SMTP 535).
func OAuthBearer(user, token, host string, port int) Client {
	return &oauthBearer{Client: gosasl.NewOAuthBearerClient(&gosasl.OAuthBearerOptions{Username: user, Token: token, Host: host, Port: port})}
}

type oauthBearer struct{ Client }

func (o *oauthBearer) Next(challenge []byte) ([]byte, error) { return []byte{0x01}, nil }

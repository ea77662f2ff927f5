package pop3test

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// auth runs an AUTH exchange (RFC 5034) and logs in on success. It reports
// whether the session goes on.
func (ss *session) auth(args []string) bool {
	if len(args) == 0 {
		ss.line("-ERR mechanism required")
		return true
	}
	mech := strings.ToUpper(args[0])
	enabled := false
	for _, m := range ss.s.opts.SASL {
		enabled = enabled || strings.EqualFold(m, mech)
	}
	if !enabled {
		ss.line("-ERR [AUTH] unsupported mechanism")
		return true
	}
	var ir []byte
	haveIR := len(args) > 1
	if haveIR {
		if args[1] != "=" {
			var err error
			if ir, err = base64.StdEncoding.DecodeString(args[1]); err != nil {
				ss.line("-ERR bad base64")
				return true
			}
		}
	}
	mb := ss.s.mbox
	ok := false
	var err error
	switch mech {
	case "PLAIN":
		if !haveIR {
			if ir, err = ss.challenge(nil); err != nil {
				return err != errCancel
			}
		}
		f := bytes.Split(ir, []byte{0})
		ok = len(f) == 3 && string(f[1]) == mb.user && string(f[2]) == mb.pass
	case "LOGIN":
		u, p := ir, []byte(nil)
		if !haveIR {
			u, err = ss.challenge([]byte("Username:"))
		}
		if err == nil {
			p, err = ss.challenge([]byte("Password:"))
		}
		if err != nil {
			return err != errCancel
		}
		ok = string(u) == mb.user && string(p) == mb.pass
	case "CRAM-MD5":
		stamp := fmt.Sprintf("<%d.%d@pop3test>", stampSeq.Add(1), time.Now().UnixNano())
		resp, err := ss.challenge([]byte(stamp))
		if err != nil {
			return err != errCancel
		}
		m := hmac.New(md5.New, []byte(mb.pass))
		m.Write([]byte(stamp))
		ok = string(resp) == mb.user+" "+hex.EncodeToString(m.Sum(nil))
	case "XOAUTH2":
		if haveIR && ss.s.opts.XOAuth2TwoStep {
			ss.line("-ERR initial response not allowed, send it after +")
			return true
		}
		if !haveIR {
			if ir, err = ss.challenge(nil); err != nil {
				return err != errCancel
			}
		}
		ok = string(ir) == "user="+mb.user+"\x01auth=Bearer "+mb.pass+"\x01\x01"
		if tok, found := strings.CutPrefix(string(ir), "user="+mb.user+"\x01auth=Bearer "); found && ss.s.opts.TokenOK != nil {
			tok, found = strings.CutSuffix(tok, "\x01\x01")
			ok = found && ss.s.opts.TokenOK(tok)
		}
		if !ok {
			if _, err := ss.challenge([]byte(`{"status":"401","schemes":"bearer","scope":"mail"}`)); err != nil {
				return err != errCancel
			}
		}
	case "OAUTHBEARER":
		if !haveIR {
			if ir, err = ss.challenge(nil); err != nil {
				return err != errCancel
			}
		}
		ok = oauthBearerOK(ir, mb.user, mb.pass, ss.s.opts.TokenOK)
		if !ok {
			if _, err := ss.challenge([]byte(`{"status":"invalid_token","schemes":"bearer"}`)); err != nil {
				return err != errCancel
			}
		}
	}
	if !ok {
		ss.line("-ERR [AUTH] authentication failed")
		return true
	}
	ss.login()
	return true
}

// oauthBearerOK checks an RFC 7628 client response: "n,a=USER," then
// key=value pairs separated by %x01, one of them auth=Bearer TOKEN.
// tokenOK, if not nil, replaces the comparison with token.
func oauthBearerOK(ir []byte, user, token string, tokenOK func(string) bool) bool {
	gs2, rest, found := strings.Cut(string(ir), "\x01")
	if !found || (gs2 != "n,a="+user+"," && gs2 != "n,,") {
		return false
	}
	for _, kv := range strings.Split(rest, "\x01") {
		if tok, ok := strings.CutPrefix(kv, "auth=Bearer "); ok {
			if tokenOK != nil {
				return tokenOK(tok)
			}
			return tok == token
		}
	}
	return false
}

// errCancel is a client's "*" ending the exchange; it was answered -ERR.
var errCancel = fmt.Errorf("pop3test: AUTH cancelled")

// challenge sends "+ base64(c)" and reads the client's base64 answer.
func (ss *session) challenge(c []byte) ([]byte, error) {
	ss.line("+ " + base64.StdEncoding.EncodeToString(c))
	if err := ss.bw.Flush(); err != nil {
		return nil, err
	}
	raw, err := ss.br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	resp := strings.TrimRight(raw, "\r\n")
	ss.s.logf("pop3test: C: (SASL response)")
	if resp == "*" {
		ss.line("-ERR AUTH cancelled")
		return nil, errCancel
	}
	b, err := base64.StdEncoding.DecodeString(resp)
	if err != nil {
		ss.line("-ERR bad base64")
		return nil, errCancel
	}
	return b, nil
}

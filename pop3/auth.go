package pop3

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/gofetchmail/gofetchmail/internal/sasl"
)

// Auth logs in with a SASL mechanism (RFC 5034), for example
// sasl.Plain(user, pw). The initial response is sent with the
// AUTH command; each "+ " challenge is answered with a.Next. Everything
// sent after the mechanism name is masked in the trace. The whole exchange
// is bounded by Options.Timeout and by sasl.MaxChallenges challenges.
func (c *Client) Auth(ctx context.Context, a sasl.Client) error {
	const cmd = "AUTH"
	// Every response is masked in replies, and a server that answers with
	// challenges for ever is cut off after sasl.MaxChallenges.
	a = sasl.Guard(a, &c.secrets)
	mech, ir, err := a.Start()
	if err != nil {
		return fmt.Errorf("pop3: AUTH: %w", err)
	}
	release, err := c.begin(ctx, cmd)
	if err != nil {
		return err
	}
	defer release()
	line := "AUTH " + mech
	shown := line
	if ir != nil {
		enc := "="
		if len(ir) > 0 {
			enc = base64.StdEncoding.EncodeToString(ir)
		}
		line += " " + enc
		shown += " *****"
	}
	for {
		if err := c.send(cmd, line, shown); err != nil {
			return err
		}
		r, err := c.status(cmd, true)
		if err != nil || r.ok {
			return err
		}
		// No re-arming: the timeout bounds the whole exchange, not each
		// round trip, so a server cannot keep the login alive for ever.
		challenge, derr := base64.StdEncoding.DecodeString(r.text)
		var resp []byte
		if derr == nil {
			resp, err = a.Next(challenge)
		}
		if derr != nil || err != nil {
			// Cancel the exchange (RFC 5034: "*"); the server answers -ERR.
			if err := c.send(cmd, "*", "*"); err != nil {
				return err
			}
			c.status(cmd, true)
			if errors.Is(err, sasl.ErrTooManyChallenges) {
				return c.fail(cmd, err) // the server may not even stop now
			}
			if derr != nil {
				return c.fail(cmd, &ProtocolError{Msg: "challenge is not base64"})
			}
			return fmt.Errorf("pop3: AUTH: %w", err)
		}
		line = base64.StdEncoding.EncodeToString(resp)
		shown = "*****"
	}
}

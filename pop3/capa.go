package pop3

import (
	"context"
	"errors"
	"strings"
)

// Capabilities is a CAPA answer (RFC 2449): each capability name,
// upper-cased, mapped to its arguments ("SASL" -> ["PLAIN", "LOGIN"]).
type Capabilities map[string][]string

// Has reports whether the server announced the capability name (any case).
func (c Capabilities) Has(name string) bool {
	_, ok := c[strings.ToUpper(name)]
	return ok
}

// Capa asks for the server's capabilities. A server that answers -ERR
// (it predates RFC 2449) yields empty capabilities and no error.
func (c *Client) Capa(ctx context.Context) (Capabilities, error) {
	caps := Capabilities{}
	err := c.multi(ctx, "CAPA", "CAPA", maxCapaLines, func(l []byte) error {
		f := strings.Fields(string(l))
		if len(f) > 0 {
			caps[strings.ToUpper(f[0])] = f[1:]
		}
		return nil
	})
	var e *Error
	if errors.As(err, &e) {
		return Capabilities{}, nil
	}
	return caps, err
}

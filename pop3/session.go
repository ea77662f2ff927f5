package pop3

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// UID is one entry of a UIDL listing.
type UID struct {
	Num int    // message number in this session
	UID string // the server's unique id, stable across sessions
}

// Size is one entry of a LIST listing.
type Size struct {
	Num  int   // message number in this session
	Size int64 // size in octets as the server counts it (CRLF line endings)
}

// Greeting reads the server's greeting and returns its text. An APOP
// timestamp ("<...>") in it is remembered for APOP.
func (c *Client) Greeting(ctx context.Context) (string, error) {
	const cmd = "greeting"
	release, err := c.begin(ctx, cmd)
	if err != nil {
		return "", err
	}
	defer release()
	r, err := c.status(cmd, false)
	if err != nil {
		return "", err
	}
	if i := strings.IndexByte(r.text, '<'); i >= 0 {
		if j := strings.IndexByte(r.text[i:], '>'); j > 0 {
			c.stamp = r.text[i : i+j+1]
		}
	}
	return r.text, nil
}

// User sends USER name.
func (c *Client) User(ctx context.Context, name string) error {
	line := "USER " + name
	_, err := c.simple(ctx, "USER", line, line)
	return err
}

// Pass sends PASS pw. The password appears in no trace and no error.
func (c *Client) Pass(ctx context.Context, pw string) error {
	return c.withSecret(pw, func() error {
		_, err := c.simple(ctx, "PASS", "PASS "+pw, "PASS *****")
		return err
	})
}

// APOP logs in with the APOP command: the digest is the hex MD5 of the
// greeting's timestamp followed by pw. It fails without sending anything
// if the greeting had no timestamp.
func (c *Client) APOP(ctx context.Context, name, pw string) error {
	if c.stamp == "" {
		return &ProtocolError{Command: "APOP", Msg: "the server greeting has no APOP timestamp"}
	}
	sum := md5.Sum([]byte(c.stamp + pw))
	digest := hex.EncodeToString(sum[:])
	line := "APOP " + name + " " + digest
	c.secrets.Response([]byte(name + " " + digest)) // the digest is a dictionary-attack target
	return c.withSecret(pw, func() error {
		_, err := c.simple(ctx, "APOP", line, "APOP "+name+" *****")
		return err
	})
}

// Stat returns the number of messages and their total size in octets.
func (c *Client) Stat(ctx context.Context) (count int, size int64, err error) {
	text, err := c.simple(ctx, "STAT", "STAT", "STAT")
	if err != nil {
		return 0, 0, err
	}
	n, sz, err := twoNumbers([]byte(text))
	if err != nil {
		return 0, 0, c.fail("STAT", err)
	}
	if n > MaxMessages {
		return 0, 0, c.fail("STAT", &ProtocolError{Msg: fmt.Sprintf("the server reports %d messages, more than the %d a session handles", n, MaxMessages)})
	}
	c.stat = int(n)
	return int(n), sz, nil
}

// MaxUIDLen is the longest unique-id a listing may hold, in octets. RFC
// 1939 section 7 allows 70 (0x21 to 0x7E); servers that overstep it by a
// little are common enough to tolerate, but a UID is held in memory for
// every message of a listing, and 20,000 of 50 KB each are a gigabyte. A
// longer one makes the listing a *ProtocolError: nothing is fetched or
// deleted, and the poll ends with fetchmail's PS_PROTOCOL, as fetchmail's
// own 512-byte line buffer does with such a listing.
const MaxUIDLen = 1000

// maxListingUIDBytes bounds the UIDs of one listing together: 4 Mi
// messages of 64-octet UIDs.
const maxListingUIDBytes = 256 << 20

// UIDL lists the unique id of every message not marked deleted.
//
// The UIDs share one string: a listing of 100,000 messages costs a few
// allocations, not one per message.
func (c *Client) UIDL(ctx context.Context) ([]UID, error) {
	var out []UID
	var ends []int  // where each UID ends in text
	var text []byte // the UIDs, one after the other
	if c.stat > 0 {
		n := min(c.stat, 1<<17) // a hint: a server may claim more than it lists
		out, ends, text = make([]UID, 0, n), make([]int, 0, n), make([]byte, 0, 16*n)
	}
	err := c.multi(ctx, "UIDL", "UIDL", c.listingLines(), func(l []byte) error {
		n, uid, err := splitUID(l)
		if err != nil {
			return err
		}
		if len(text)+len(uid) > maxListingUIDBytes {
			return &ProtocolError{Msg: fmt.Sprintf("the UIDL listing holds more than %d octets of UIDs", maxListingUIDBytes)}
		}
		text = append(text, uid...)
		ends = append(ends, len(text))
		out = append(out, UID{Num: n})
		return nil
	})
	all, start := string(text), 0
	for i := range out {
		out[i].UID = all[start:ends[i]]
		start = ends[i]
	}
	return out, err
}

// UIDLOne returns the unique id of message n.
func (c *Client) UIDLOne(ctx context.Context, n int) (string, error) {
	line := "UIDL " + strconv.Itoa(n)
	text, err := c.simple(ctx, "UIDL", line, line)
	if err != nil {
		return "", err
	}
	u, err := parseUID([]byte(text))
	if err != nil {
		return "", c.fail("UIDL", err)
	}
	return u.UID, nil
}

// List lists the size of every message not marked deleted.
func (c *Client) List(ctx context.Context) ([]Size, error) {
	var out []Size
	err := c.multi(ctx, "LIST", "LIST", c.listingLines(), func(l []byte) error {
		n, sz, err := twoNumbers(l)
		out = append(out, Size{Num: int(n), Size: sz})
		return err
	})
	return out, err
}

// ListOne returns the size of message n.
func (c *Client) ListOne(ctx context.Context, n int) (int64, error) {
	line := "LIST " + strconv.Itoa(n)
	text, err := c.simple(ctx, "LIST", line, line)
	if err != nil {
		return 0, err
	}
	_, sz, err := twoNumbers([]byte(text))
	if err != nil {
		return 0, c.fail("LIST", err)
	}
	return sz, nil
}

// Dele marks message n deleted. The server removes it only when the
// session ends with Quit.
func (c *Client) Dele(ctx context.Context, n int) error {
	line := "DELE " + strconv.Itoa(n)
	_, err := c.simple(ctx, "DELE", line, line)
	return err
}

// Rset unmarks all messages marked deleted in this session.
func (c *Client) Rset(ctx context.Context) error {
	_, err := c.simple(ctx, "RSET", "RSET", "RSET")
	return err
}

// Noop sends NOOP.
func (c *Client) Noop(ctx context.Context) error {
	_, err := c.simple(ctx, "NOOP", "NOOP", "NOOP")
	return err
}

// Quit sends QUIT, which makes the server commit the deletions, reads the
// reply and closes the connection. A -ERR reply (some deletions failed)
// is returned as *Error; the connection is closed in every case.
func (c *Client) Quit(ctx context.Context) error {
	_, err := c.simple(ctx, "QUIT", "QUIT", "QUIT")
	c.Close() // the reply is what matters; the server closes too
	return err
}

// parseUID parses "n unique-id" as fetchmail's parseuid does: the UID is
// the rest of the line after the number and its blanks, without trailing
// blanks, so a UID with a blank (a server outside RFC 1939) stays whole
// and distinct instead of being cut to its first word. A UID longer than
// MaxUIDLen is a *ProtocolError, before it is copied.
func parseUID(l []byte) (UID, error) {
	n, uid, err := splitUID(l)
	if err != nil {
		return UID{}, err
	}
	return UID{Num: n, UID: string(uid)}, nil
}

// splitUID is parseUID returning the UID's octets within l.
func splitUID(l []byte) (int, []byte, error) {
	i := skipBlanks(l, 0)
	j := skipField(l, i)
	k := skipBlanks(l, j)
	end := len(l)
	for end > k && isBlank[l[end-1]] {
		end--
	}
	if j == i || k == j || end == k {
		return 0, nil, &ProtocolError{Msg: "malformed UIDL line " + quote(clipLine(l))}
	}
	n, err := strconv.Atoi(string(l[i:j]))
	if err != nil || n <= 0 {
		return 0, nil, &ProtocolError{Msg: "malformed UIDL line " + quote(clipLine(l))}
	}
	if end-k > MaxUIDLen {
		return 0, nil, &ProtocolError{Msg: fmt.Sprintf("the UID of message %d is %d octets long, more than the %d a listing may hold (RFC 1939 allows 70)", n, end-k, MaxUIDLen)}
	}
	return n, l[k:end], nil
}

// clipLine keeps an error message about a listing line short.
func clipLine(l []byte) []byte {
	if len(l) > 100 {
		return l[:100]
	}
	return l
}

// twoFields returns the first two blank-separated fields of l, like the
// first two of bytes.Fields without allocating: listings of 100,000 lines
// are parsed here.
func twoFields(l []byte) (a, b []byte, ok bool) {
	i := skipBlanks(l, 0)
	j := skipField(l, i)
	if j == len(l) {
		return nil, nil, false
	}
	a = l[i:j]
	i = skipBlanks(l, j)
	if i == len(l) {
		return nil, nil, false
	}
	return a, l[i:skipField(l, i)], true
}

// isBlank marks the ASCII white space characters that separate fields.
var isBlank = [256]bool{' ': true, '\t': true, '\r': true, '\n': true, '\v': true, '\f': true}

// skipBlanks returns the index of the first non-blank byte of l at or after i.
func skipBlanks(l []byte, i int) int {
	for i < len(l) && isBlank[l[i]] {
		i++
	}
	return i
}

// skipField returns the index of the first blank byte of l at or after i.
func skipField(l []byte, i int) int {
	for i < len(l) && !isBlank[l[i]] {
		i++
	}
	return i
}

// twoNumbers parses "n size" (STAT, LIST), ignoring text after them.
func twoNumbers(l []byte) (int64, int64, error) {
	if f0, f1, ok := twoFields(l); ok {
		a, err1 := strconv.ParseInt(string(f0), 10, 32)
		b, err2 := strconv.ParseInt(string(f1), 10, 64)
		if err1 == nil && err2 == nil && a >= 0 && b >= 0 {
			return a, b, nil
		}
	}
	return 0, 0, &ProtocolError{Msg: "expected two numbers, got " + quote(l)}
}

package ledger

import (
	"bytes"
	"encoding/base64"
	"strings"
)

// How a UID is written in the idfile.
//
// fetchmail's idfile holds one "remotename@queryname UID" line per UID, and
// fetchmail 6.4 reads it with fgets into a 512-byte buffer (POPBUFSIZE): the
// key ends at the first blank after the first '@', the UID at the next
// blank, tab or newline. A UID with a blank or a line break cannot be
// written that way, and a line longer than 511 bytes is cut by fgets into
// pieces that fetchmail then misreads; one of an account it does not poll
// it even writes back glued to the next line, corrupting that one.
//
// So an ordinary UID (every byte 0x21..0x7E, as RFC 1939 section 7 has
// them, not starting with encPrefix, its line at most 511 bytes) is written
// as it is, byte for byte what fetchmail writes. Any other UID is written
// as encPrefix and the unpadded base64url of its bytes; when that line
// would pass 511 bytes, the encoding is split over several lines of the same
// key, each but the last starting with contPrefix. fetchmail reads such
// lines as UIDs no server has (it drops them when it polls that account,
// and keeps them verbatim otherwise) and its reading of every other line is
// unchanged. gofetchmail reads them back into the original UID. A UID of
// the server's that happens to start with the prefix is encoded too, so
// every UID reads back as itself.
const (
	encPrefix  = "~gfm~" // the (last) part of an encoded UID
	contPrefix = "~gfm+" // a part that more parts follow
	// maxIDLine is the longest line fetchmail 6.4 reads whole, its
	// newline included (fgets into a buffer of POPBUFSIZE = 512).
	maxIDLine = 511
)

var uidEncoding = base64.RawURLEncoding

// plainUID reports whether uid is written as it is on the line of key.
func plainUID(key, uid string) bool {
	if len(key)+1+len(uid)+1 > maxIDLine || strings.HasPrefix(uid, "~gfm") {
		return false
	}
	for i := 0; i < len(uid); i++ {
		if uid[i] < 0x21 || uid[i] > 0x7e {
			return false
		}
	}
	return uid != ""
}

// writeIDLines writes the line, or lines, that record uid for key.
func writeIDLines(buf *bytes.Buffer, key, uid string) {
	if plainUID(key, uid) {
		buf.WriteString(key)
		buf.WriteByte(' ')
		buf.WriteString(uid)
		buf.WriteByte('\n')
		return
	}
	enc := uidEncoding.EncodeToString([]byte(uid))
	// What a line has room for after "key ~gfm~" and the newline; a key so
	// long that little room is left gets one line, too long for fetchmail
	// whatever its UID.
	room := maxIDLine - len(key) - 1 - len(encPrefix) - 1
	if room < 16 {
		room = len(enc)
	}
	for len(enc) > room {
		buf.WriteString(key)
		buf.WriteByte(' ')
		buf.WriteString(contPrefix)
		buf.WriteString(enc[:room])
		buf.WriteByte('\n')
		enc = enc[room:]
	}
	buf.WriteString(key)
	buf.WriteByte(' ')
	buf.WriteString(encPrefix)
	buf.WriteString(enc)
	buf.WriteByte('\n')
}

// uidDecoder reads the UIDs of idfile lines back, joining the parts of an
// encoded one. Parts must follow each other with the same key; a part
// whose sequence is broken (a program that rewrote the file reordered or
// dropped lines) is dropped, which at worst makes that message count as
// not yet fetched.
type uidDecoder struct {
	key  string
	part strings.Builder
	// skip is set once the parts of one UID grew past the encoding of
	// the longest UID the store keeps: its remaining parts, up to and
	// including its last, are dropped rather than read as a shorter UID.
	skip bool
}

// line takes the key and UID field of one line and returns the UID it
// completes, or ok false for a part that more parts must follow, or an
// encoding that does not decode.
func (d *uidDecoder) line(key, field string) (uid string, ok bool) {
	if !strings.HasPrefix(field, "~gfm") {
		d.reset()
		// A UID longer than any the store keeps came from no server
		// and reads as nothing, as an over-long encoded one does.
		return field, ValidUID(field)
	}
	if (d.part.Len() > 0 || d.skip) && key != d.key {
		d.reset()
	}
	if rest, ok := strings.CutPrefix(field, contPrefix); ok {
		d.key = key
		if !d.skip {
			d.part.WriteString(rest)
		}
		if d.part.Len() > uidEncoding.EncodedLen(MaxUIDLen) {
			d.part.Reset() // parts without an end, or too long a UID: bounded
			d.skip = true
		}
		return "", false
	}
	rest, ok := strings.CutPrefix(field, encPrefix)
	if !ok {
		d.reset()
		return field, ValidUID(field) // a server's UID that merely starts alike, written by another program
	}
	if d.skip {
		d.reset()
		return "", false
	}
	enc := rest
	if d.part.Len() > 0 {
		d.part.WriteString(rest)
		enc = d.part.String()
		d.part.Reset()
	}
	// Strict: only the one canonical encoding of a UID reads back, so
	// every UID read is written again as the same lines.
	b, err := uidEncoding.Strict().DecodeString(enc)
	if err != nil || !ValidUID(string(b)) {
		// Not ours, or longer than any UID the store remembers: a
		// planted or damaged line, dropped rather than carried on.
		return "", false
	}
	return string(b), true
}

// pending reports whether parts of an encoded UID were read whose last
// part has not come.
func (d *uidDecoder) pending() bool { return d.part.Len() > 0 || d.skip }

func (d *uidDecoder) reset() {
	d.part.Reset()
	d.skip = false
}

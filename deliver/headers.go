package deliver

import (
	"bytes"
	"errors"
	"io"
	"strings"
)

// HeaderOptions select fetchmail's per-message header processing. The zero
// value changes nothing.
type HeaderOptions struct {
	// Rewrite appends "@" + Server to addresses without a domain in From,
	// To, Cc, Bcc, Reply-To, Sender and their Resent- forms (fetchmail's
	// "rewrite", on by default).
	Rewrite bool
	Server  string // the mail server's name, for Rewrite
	// DropStatus drops Status: and X-Mozilla-Status: fields.
	DropStatus bool
	// DropDelivered drops Delivered-To: fields.
	DropDelivered bool
	// StripCR removes the CR of every CRLF line end; ForceCR turns every
	// bare LF into CRLF. StripCR wins when both are set.
	StripCR, ForceCR bool
	// MIMEDecode turns a quoted-printable body of a single-part text
	// message (one with a MIME-Version field) into 8bit, and says so in its
	// Content-Transfer-Encoding field; in a multipart message, every part
	// in quoted-printable (nested multiparts too).
	MIMEDecode bool
	// MaxHeader caps the header block that is held in memory (default
	// 1 MiB). A message whose header is longer is passed through
	// unprocessed.
	MaxHeader int
}

// defaultMaxHeader is HeaderOptions.MaxHeader's default.
const defaultMaxHeader = 1 << 20

// NewHeaderFilter returns a writer that applies opts to a message written to
// it and writes the result to w. Only the header block is held in memory
// (up to MaxHeader bytes); the body is streamed. Close writes what is still
// held and must be called at the end of the message; it does not close w.
func NewHeaderFilter(w io.Writer, opts HeaderOptions) io.WriteCloser {
	if opts.MaxHeader <= 0 {
		opts.MaxHeader = defaultMaxHeader
	}
	f := &headerFilter{opts: opts}
	f.out = w
	if opts.StripCR || opts.ForceCR {
		f.crlf = &crlfWriter{w: w, strip: opts.StripCR}
		f.out = f.crlf
	}
	f.body = f.out
	return f
}

// headerFilter is NewHeaderFilter's writer.
type headerFilter struct {
	opts   HeaderOptions
	out    io.Writer      // after the line-end conversion
	crlf   *crlfWriter    // nil without StripCR/ForceCR
	body   io.Writer      // where body bytes go (out, or a QP decoder)
	dec    io.WriteCloser // non-nil when the body is decoded
	head   []byte         // the header held so far
	inBody bool
	err    error
	closed bool
}

var errFilterClosed = errors.New("deliver: header filter closed")

// Write holds header bytes until the blank line that ends the header (or
// MaxHeader bytes), then streams.
func (f *headerFilter) Write(p []byte) (int, error) {
	if f.closed {
		return 0, errFilterClosed
	}
	if f.err != nil {
		return 0, f.err
	}
	if f.inBody {
		if _, err := f.body.Write(p); err != nil {
			f.err = err
			return 0, err
		}
		return len(p), nil
	}
	start := len(f.head)
	f.head = append(f.head, p...)
	end := headerEnd(f.head, max(0, start-2))
	switch {
	case end >= 0 && end <= f.opts.MaxHeader:
	case end >= 0 || len(f.head) > f.opts.MaxHeader:
		// Too long to be a header we process: pass it all through.
		f.inBody = true
		_, f.err = f.out.Write(f.head)
		f.head = nil
		if f.err != nil {
			return 0, f.err
		}
		return len(p), nil
	default:
		return len(p), nil
	}
	rest := f.head[end:]
	if err := f.flushHeader(f.head[:end]); err != nil {
		return 0, err
	}
	if len(rest) > 0 {
		if _, err := f.body.Write(rest); err != nil {
			f.err = err
			return 0, err
		}
	}
	f.head = nil
	return len(p), nil
}

// Close processes a message that was all header, and flushes the decoders.
func (f *headerFilter) Close() error {
	if f.closed {
		return f.err
	}
	f.closed = true
	if f.err != nil {
		return f.err
	}
	if !f.inBody {
		if err := f.flushHeader(f.head); err != nil {
			return err
		}
		f.head = nil
	}
	if f.dec != nil {
		if err := f.dec.Close(); err != nil {
			f.err = err
			return err
		}
	}
	if f.crlf != nil {
		if err := f.crlf.Close(); err != nil {
			f.err = err
			return err
		}
	}
	return nil
}

// headerEnd returns the offset just past the blank line that ends the
// header in b, or -1. from is where to start looking; a message that starts
// with a blank line has an empty header.
func headerEnd(b []byte, from int) int {
	if len(b) > 0 && b[0] == '\n' {
		return 1
	}
	if len(b) > 1 && b[0] == '\r' && b[1] == '\n' {
		return 2
	}
	for i := from; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		switch {
		case i+1 < len(b) && b[i+1] == '\n':
			return i + 2
		case i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n':
			return i + 3
		}
	}
	return -1
}

// flushHeader processes the header block h (with its blank line, if any),
// writes it, and switches to the body.
func (f *headerFilter) flushHeader(h []byte) error {
	f.inBody = true
	fields, blank := splitFields(h)
	var decodeQP bool
	var boundary string
	if f.opts.MIMEDecode {
		decodeQP = isSinglePartQP(fields)
		boundary = multipartBoundary(fields)
	}
	var out bytes.Buffer
	out.Grow(len(h) + 64)
	var nameBuf [32]byte
	for _, fl := range fields {
		// The lower-case name, compared without a string of its own.
		name := lowerFieldName(nameBuf[:0], fl)
		switch {
		case f.opts.DropStatus && (string(name) == "status" || string(name) == "x-mozilla-status"):
			continue
		case f.opts.DropDelivered && string(name) == "delivered-to":
			continue
		case f.opts.Rewrite && f.opts.Server != "" && addressFields[string(name)]:
			fl = rewriteField(fl, f.opts.Server)
		case decodeQP && string(name) == "content-transfer-encoding":
			fl = []byte(fieldName(fl) + ": 8bit" + lineEnd(fl))
		}
		out.Write(fl)
	}
	out.Write(blank)
	if _, err := f.out.Write(out.Bytes()); err != nil {
		f.err = err
		return err
	}
	switch {
	case decodeQP:
		f.dec = &qpWriter{w: f.out}
		f.body = f.dec
	case boundary != "":
		f.dec = newMIMEWriter(f.out, boundary)
		f.body = f.dec
	}
	return nil
}

// addressFields are the fields whose addresses Rewrite qualifies.
var addressFields = map[string]bool{
	"from": true, "to": true, "cc": true, "bcc": true, "reply-to": true, "sender": true,
	"resent-from": true, "resent-to": true, "resent-cc": true, "resent-bcc": true,
	"resent-reply-to": true, "resent-sender": true,
}

// splitFields splits a header block into its fields (each with its
// continuation lines and line ends) and the blank line that ends it.
// Bytes before the first field, or a line that is not a field, count as
// a field of their own and are kept as they are.
func splitFields(h []byte) (fields [][]byte, blank []byte) {
	fields = make([][]byte, 0, 32) // a typical header's fields in one allocation
	for len(h) > 0 {
		if h[0] == '\n' || (len(h) > 1 && h[0] == '\r' && h[1] == '\n') {
			return fields, h
		}
		end := 0
		for {
			i := bytes.IndexByte(h[end:], '\n')
			if i < 0 {
				end = len(h)
				break
			}
			end += i + 1
			if end >= len(h) || (h[end] != ' ' && h[end] != '\t') {
				break
			}
		}
		fields = append(fields, h[:end:end])
		h = h[end:]
	}
	return fields, nil
}

// fieldName returns the name of a header field ("" when it has no colon
// on its first line).
func fieldName(fl []byte) string {
	line := fl
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	i := bytes.IndexByte(line, ':')
	if i < 0 {
		return ""
	}
	return strings.TrimRight(string(line[:i]), " \t")
}

// lowerFieldName appends the name of the header field fl, lower-cased, to
// dst: what strings.ToLower(fieldName(fl)) is, for the ASCII names the
// filter acts on, without allocating for a short one.
func lowerFieldName(dst, fl []byte) []byte {
	line := fl
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	i := bytes.IndexByte(line, ':')
	if i < 0 {
		return dst
	}
	line = bytes.TrimRight(line[:i], " \t")
	for _, c := range line {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// lineEnd returns the line end of a field: "\r\n", "\n" or "".
func lineEnd(fl []byte) string {
	switch {
	case bytes.HasSuffix(fl, []byte("\r\n")):
		return "\r\n"
	case bytes.HasSuffix(fl, []byte("\n")):
		return "\n"
	}
	return ""
}

// fieldValue returns the unfolded value of a header field.
func fieldValue(fl []byte) string {
	_, v, _ := bytes.Cut(fl, []byte(":"))
	s := strings.NewReplacer("\r\n", "", "\n", "").Replace(string(v))
	return strings.TrimSpace(s)
}

// isSinglePartQP reports whether a header describes a MIME message whose
// body is single-part text in quoted-printable.
func isSinglePartQP(fields [][]byte) bool {
	var mime, qp bool
	ctype := "text/plain"
	for _, fl := range fields {
		switch strings.ToLower(fieldName(fl)) {
		case "mime-version":
			mime = true
		case "content-transfer-encoding":
			qp = strings.EqualFold(fieldValue(fl), "quoted-printable")
		case "content-type":
			ctype = strings.ToLower(fieldValue(fl))
		}
	}
	return mime && qp && strings.HasPrefix(ctype, "text/")
}

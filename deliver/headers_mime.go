package deliver

import (
	"bufio"
	"bytes"
	"io"
	"mime"
	"strings"
)

// maxMIMELine caps the bytes held while looking for the end of a body line
// of a multipart message, and the header of one part. A longer line is
// passed on in pieces (it cannot be a boundary); a longer part header is
// passed on unprocessed.
const maxMIMELine = 64 << 10

// multipartBoundary returns the boundary of a MIME multipart message whose
// header is fields, or "".
func multipartBoundary(fields [][]byte) string {
	var isMIME bool
	var boundary string
	for _, fl := range fields {
		switch strings.ToLower(fieldName(fl)) {
		case "mime-version":
			isMIME = true
		case "content-type":
			boundary = partBoundary(fieldValue(fl))
		}
	}
	if !isMIME {
		return ""
	}
	return boundary
}

// partBoundary returns the boundary parameter of a multipart Content-Type
// value, or "".
func partBoundary(ctype string) string {
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		return ""
	}
	return params["boundary"]
}

// maxMIMEDepth bounds the nesting of multiparts mimedecode follows: the
// message's own multipart is depth 1. A multipart part deeper than that is
// passed on as it is, its quoted-printable parts undecoded. Real mail
// nests a few levels (a forwarded message with an alternative and a
// related part is 4); a sender who nests 40,000 only gets less decoding.
const maxMIMEDepth = 32

// mimeWriter decodes the quoted-printable parts of a multipart body while
// streaming, as fetchmail's mimedecode does: each part whose header says
// Content-Transfer-Encoding: quoted-printable is decoded to 8bit and its
// header says so. Nested multiparts are followed, up to maxMIMEDepth.
//
// Cost: every byte is handled a bounded number of times, whatever the
// sender wrote. A line is compared with the open boundaries by looking
// up, in a map, the at most two boundaries it could be (RFC 2046 section
// 5.1.1: "--" boundary, then "--" for the close delimiter, then transport
// padding), never by walking the stack of open ones: 400,000 "--z" lines
// under 40,000 open boundaries cost 800,000 lookups, not 16 billion
// comparisons. A boundary is pushed once and popped once.
type mimeWriter struct {
	w          *bufio.Writer
	boundaries []openBoundary // innermost last
	active     map[string]int // boundary -> index of its innermost entry in boundaries
	line       []byte         // the unfinished line
	inHeader   bool           // collecting a part's header
	header     []byte
	qp         *qpWriter // non-nil while in a decoded part
	soft       bool      // the last decoded line ended in a soft break
	partial    bool      // the start of the current line was passed on
	// lookups counts boundary look-ups, for tests of the cost bound.
	lookups int
}

// openBoundary is a multipart whose close delimiter has not been seen.
type openBoundary struct {
	b     string
	outer int // index of the next entry out with the same boundary, or -1
}

func newMIMEWriter(w io.Writer, boundary string) *mimeWriter {
	m := &mimeWriter{w: bufio.NewWriterSize(w, 32*1024), active: map[string]int{}}
	m.push(boundary)
	return m
}

// push opens a multipart with boundary b, unless maxMIMEDepth are open.
func (m *mimeWriter) push(b string) {
	if len(m.boundaries) >= maxMIMEDepth {
		return
	}
	outer, ok := m.active[b]
	if !ok {
		outer = -1
	}
	m.active[b] = len(m.boundaries)
	m.boundaries = append(m.boundaries, openBoundary{b: b, outer: outer})
}

// popTo closes the multiparts from the innermost out to index n (so that
// n remain open).
func (m *mimeWriter) popTo(n int) {
	for len(m.boundaries) > n {
		ob := m.boundaries[len(m.boundaries)-1]
		if ob.outer < 0 {
			delete(m.active, ob.b)
		} else {
			m.active[ob.b] = ob.outer
		}
		m.boundaries = m.boundaries[:len(m.boundaries)-1]
	}
}

func (m *mimeWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			m.line = append(m.line, p...)
			if len(m.line) > maxMIMELine {
				// Too long for a boundary: pass it on as it comes.
				m.handleLine(m.line)
				m.line = m.line[:0]
				m.partial = true
			}
			break
		}
		if len(m.line) == 0 {
			// A whole line in p: handled in place (handleLine keeps
			// nothing of it).
			m.handleLine(p[:i+1])
		} else {
			m.line = append(m.line, p[:i+1]...)
			m.handleLine(m.line)
			m.line = m.line[:0]
		}
		p = p[i+1:]
		m.partial = false
	}
	if m.w.Buffered() >= 16*1024 {
		if err := m.w.Flush(); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// Close passes on an unfinished last line and flushes.
func (m *mimeWriter) Close() error {
	if len(m.line) > 0 {
		m.handleLine(m.line)
		m.line = m.line[:0]
	}
	if m.inHeader {
		m.w.Write(m.header)
		m.header, m.inHeader = nil, false
	}
	m.endPart()
	return m.w.Flush()
}

// handleLine processes one line (with its line end, if any).
func (m *mimeWriter) handleLine(line []byte) {
	if m.partial || len(line) > maxMIMELine {
		// The rest or a piece of a long line: content (or part header).
	} else if b, closing, ok := m.boundaryLine(line); ok {
		if m.inHeader {
			m.w.Write(m.header)
			m.header, m.inHeader = nil, false
		}
		m.endPart()
		if closing {
			m.popTo(b)
		} else {
			m.popTo(b + 1)
			m.inHeader = true
		}
		m.w.Write(line)
		return
	}
	if m.inHeader {
		m.header = append(m.header, line...)
		if !m.partial && (string(line) == "\n" || string(line) == "\r\n") {
			m.startPart()
		} else if len(m.header) > maxMIMELine {
			m.w.Write(m.header)
			m.header, m.inHeader = nil, false
		}
		return
	}
	m.content(line, true)
}

// content passes on body bytes of the current part, decoded if it is a
// quoted-printable part. whole says line is a complete line.
func (m *mimeWriter) content(line []byte, whole bool) {
	if m.qp == nil {
		m.w.Write(line)
		return
	}
	m.qp.Write(line)
	if whole {
		// A line that ends in "=" and its line end is a soft break.
		t, ok := bytes.CutSuffix(line, []byte("\n"))
		t, _ = bytes.CutSuffix(t, []byte("\r"))
		m.soft = ok && bytes.HasSuffix(t, []byte("="))
	}
}

// endPart finishes a decoded part before a boundary: the line end that
// belongs to the boundary is restored if a soft break took it.
func (m *mimeWriter) endPart() {
	if m.qp == nil {
		return
	}
	m.qp.Close()
	if m.soft {
		m.w.WriteByte('\n')
	}
	m.qp, m.soft = nil, false
}

// startPart processes the header of a part (ending with its blank line).
func (m *mimeWriter) startPart() {
	fields, blank := splitFields(m.header)
	var qp bool
	for _, fl := range fields {
		switch strings.ToLower(fieldName(fl)) {
		case "content-transfer-encoding":
			qp = strings.EqualFold(fieldValue(fl), "quoted-printable")
		case "content-type":
			if b := partBoundary(fieldValue(fl)); b != "" {
				m.push(b)
			}
		}
	}
	for _, fl := range fields {
		if qp && strings.EqualFold(fieldName(fl), "content-transfer-encoding") {
			fl = []byte(fieldName(fl) + ": 8bit" + lineEnd(fl))
		}
		m.w.Write(fl)
	}
	m.w.Write(blank)
	m.header, m.inHeader = nil, false
	if qp {
		m.qp = &qpWriter{w: m.w}
	}
}

// boundaryLine reports whether line is a delimiter ("--B") or close
// delimiter ("--B--") of one of the open boundaries, and which: the
// innermost when it could be either (boundaries "a" and "a--" with the
// line "--a--"). Two map look-ups, whatever the number of open boundaries.
func (m *mimeWriter) boundaryLine(line []byte) (idx int, closing, ok bool) {
	if !bytes.HasPrefix(line, []byte("--")) {
		return 0, false, false
	}
	t := line[2:]
	for len(t) > 0 {
		if c := t[len(t)-1]; c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			break
		}
		t = t[:len(t)-1]
	}
	m.lookups++
	idx, ok = m.active[string(t)] // no allocation: the compiler looks up []byte keys in place
	if c, isClose := bytes.CutSuffix(t, []byte("--")); isClose {
		m.lookups++
		if i, found := m.active[string(c)]; found && (!ok || i > idx) {
			return i, true, true
		}
	}
	return idx, false, ok
}

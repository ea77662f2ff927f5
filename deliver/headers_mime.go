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

// mimeWriter decodes the quoted-printable parts of a multipart body while
// streaming, as fetchmail's mimedecode does: each part whose header says
// Content-Transfer-Encoding: quoted-printable is decoded to 8bit and its
// header says so. Nested multiparts are followed.
type mimeWriter struct {
	w          *bufio.Writer
	boundaries []string // innermost last
	line       []byte   // the unfinished line
	inHeader   bool     // collecting a part's header
	header     []byte
	qp         *qpWriter // non-nil while in a decoded part
	soft       bool      // the last decoded line ended in a soft break
	partial    bool      // the start of the current line was passed on
}

func newMIMEWriter(w io.Writer, boundary string) *mimeWriter {
	return &mimeWriter{w: bufio.NewWriterSize(w, 32*1024), boundaries: []string{boundary}}
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
		m.line = append(m.line, p[:i+1]...)
		p = p[i+1:]
		m.handleLine(m.line)
		m.line = m.line[:0]
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
		m.boundaries = m.boundaries[:b+1]
		if closing {
			m.boundaries = m.boundaries[:b]
		} else {
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
				m.boundaries = append(m.boundaries, b)
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
// delimiter ("--B--") of one of the open boundaries, and which.
func (m *mimeWriter) boundaryLine(line []byte) (idx int, closing, ok bool) {
	if !bytes.HasPrefix(line, []byte("--")) {
		return 0, false, false
	}
	t := bytes.TrimRight(line, " \t\r\n")[2:]
	for i := len(m.boundaries) - 1; i >= 0; i-- {
		b := m.boundaries[i]
		if !bytes.HasPrefix(t, []byte(b)) {
			continue
		}
		switch rest := t[len(b):]; {
		case len(rest) == 0:
			return i, false, true
		case string(rest) == "--":
			return i, true, true
		}
	}
	return 0, false, false
}

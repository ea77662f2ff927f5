package pop3test

import (
	"bufio"
	"bytes"
)

// wireSize is the size of data with CRLF line endings and a final line
// ending, before dot-stuffing: what LIST and STAT report.
func wireSize(data []byte) int {
	size := 0
	forLines(data, func(line []byte) bool {
		size += len(line) + 2
		return true
	})
	return size
}

// writeBody writes data CRLF-terminated and dot-stuffed, without the
// final ".". With bodyLines >= 0 it stops after the header, the blank
// line and that many body lines (TOP).
func writeBody(w *bufio.Writer, data []byte, bodyLines int) {
	inHeader := true
	forLines(data, func(line []byte) bool {
		if !inHeader {
			if bodyLines == 0 {
				return false
			}
			if bodyLines > 0 {
				bodyLines--
			}
		}
		if len(line) == 0 {
			inHeader = false
		}
		if len(line) > 0 && line[0] == '.' {
			w.WriteByte('.')
		}
		w.Write(line)
		w.WriteString("\r\n")
		return true
	})
}

// forLines calls fn with each line of data without its LF or CRLF; a last
// line without line ending counts as a line.
func forLines(data []byte, fn func(line []byte) bool) {
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if !fn(line) {
			return
		}
	}
}

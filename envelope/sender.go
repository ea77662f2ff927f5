package envelope

import (
	"bufio"
	"bytes"
	"net/mail"
	"strings"
)

// HeaderPeek is how much of a message is looked at for its sender before
// delivery begins; the message itself is still streamed.
const HeaderPeek = 64 * 1024

// Sender finds the envelope sender of a message the way fetchmail
// does for %F and the mbox From line: the Return-Path header, else the
// address in From. It only peeks at br; nothing is consumed.
func Sender(br *bufio.Reader) string {
	return SenderOf(PeekHeader(br))
}

// PeekHeader returns the unfolded header fields at the start of br (at
// most HeaderPeek bytes of them) without consuming anything.
func PeekHeader(br *bufio.Reader) []string {
	head, _ := br.Peek(HeaderPeek)
	if i := bytes.Index(head, []byte("\n\n")); i >= 0 {
		head = head[:i+1]
	}
	return UnfoldHeader(head)
}

// SenderOf is the Return-Path address, else the From address, in the
// form envelopeAddr gives it; "" (the null sender) when neither is an
// address that form can hold.
func SenderOf(fields []string) string {
	var from string
	for _, field := range fields {
		name, value, ok := strings.Cut(field, ":")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "return-path":
			v := strings.TrimSpace(value)
			if a, err := mail.ParseAddress(v); err == nil {
				v = a.Address
			} else {
				v = strings.TrimSuffix(strings.TrimPrefix(v, "<"), ">")
				if strings.ContainsAny(v, " \t<>") {
					v = ""
				}
			}
			if a, ok := envelopeAddr(v); ok {
				return a
			}
		case "from":
			if from == "" {
				if a, err := mail.ParseAddress(strings.TrimSpace(value)); err == nil {
					from, _ = envelopeAddr(a.Address)
				}
			}
		}
	}
	return from
}

// UnfoldHeader splits a header block into fields, joining folded lines.
// The block ends at the first empty line, a bare CR before its LF
// included ("\r\r\n" from a server becomes "\r\n" after the CRLF
// conversion): nothing of the body is ever read as a field, where a
// sender could have written a Return-Path or a To of his choosing. A
// field is built in one buffer, so a header folded into 20,000 lines
// costs linear time, not a copy of the field per line.
func UnfoldHeader(head []byte) []string {
	var fields []string
	var cur strings.Builder
	have := false
	for len(head) > 0 {
		var line []byte
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			line, head = head, nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			break
		}
		if (line[0] == ' ' || line[0] == '\t') && have {
			cur.WriteByte(' ')
			cur.Write(bytes.TrimSpace(line))
			continue
		}
		if have {
			fields = append(fields, cur.String())
			cur.Reset()
		}
		cur.Write(line)
		have = true
	}
	if have {
		fields = append(fields, cur.String())
	}
	return fields
}

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
	// One string for the whole header: a field on one line is a substring
	// of it, and only a folded one is built anew.
	text := string(head)
	fields := make([]string, 0, 32)
	var (
		cur    strings.Builder
		start  = -1 // where the field being read starts in text, or -1
		end    int  // where its text ends so far
		folded bool // it has continuation lines (in cur)
	)
	flush := func() {
		switch {
		case start < 0:
		case folded:
			fields = append(fields, cur.String())
			cur.Reset()
		default:
			fields = append(fields, text[start:end])
		}
		start, folded = -1, false
	}
	for pos := 0; pos < len(text); {
		line := text[pos:]
		next := len(text)
		if i := strings.IndexByte(line, '\n'); i >= 0 {
			line, next = line[:i], pos+i+1
		}
		line = strings.TrimRight(line, "\r")
		if len(line) == 0 {
			break
		}
		if (line[0] == ' ' || line[0] == '\t') && start >= 0 {
			if !folded {
				cur.WriteString(text[start:end])
				folded = true
			}
			cur.WriteByte(' ')
			cur.WriteString(strings.TrimSpace(line))
		} else {
			flush()
			start, end = pos, pos+len(line)
		}
		pos = next
	}
	flush()
	return fields
}

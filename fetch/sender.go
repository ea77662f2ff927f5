package fetch

import (
	"bufio"
	"bytes"
	"net/mail"
	"strings"
)

// headerPeek is how much of a message is looked at for its sender before
// delivery begins; the message itself is still streamed.
const headerPeek = 64 * 1024

// envelopeSender finds the envelope sender of a message the way fetchmail
// does for %F and the mbox From line: the Return-Path header, else the
// address in From. It only peeks at br; nothing is consumed.
func envelopeSender(br *bufio.Reader) string {
	return senderOf(peekHeader(br))
}

// peekHeader returns the unfolded header fields at the start of br (at
// most headerPeek bytes of them) without consuming anything.
func peekHeader(br *bufio.Reader) []string {
	head, _ := br.Peek(headerPeek)
	if i := bytes.Index(head, []byte("\n\n")); i >= 0 {
		head = head[:i+1]
	}
	return unfoldHeader(head)
}

// senderOf is the Return-Path address, else the From address, in the
// form envelopeAddr gives it; "" (the null sender) when neither is an
// address that form can hold.
func senderOf(fields []string) string {
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

// unfoldHeader splits a header block into fields, joining folded lines.
func unfoldHeader(head []byte) []string {
	var fields []string
	for _, line := range strings.Split(string(head), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(fields) > 0 {
			fields[len(fields)-1] += " " + strings.TrimSpace(line)
			continue
		}
		fields = append(fields, line)
	}
	return fields
}

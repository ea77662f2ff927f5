package envelope

import (
	"time"
)

// Received is what the Received header says about one message (RFC 5322
// section 3.6.7 trace field, in fetchmail's form).
type Received struct {
	ServerName string // the server's name (via or poll name)
	ServerIP   string // "" when unknown (an SSH channel)
	LocalHost  string
	Protocol   string // "POP3"
	Version    string
	PollLabel  string // with tracepolls
	Account    string // with tracepolls
	Folder     string // with tracepolls, IMAP
	Recipient  string // "" when several
	Multidrop  bool
	Date       time.Time
}

// ReceivedHeader renders fetchmail's Received header, naming gofetchmail:
//
//	Received: from pop.example.org [192.0.2.1]
//		by desk.example.net with POP3 (gofetchmail-0.1.0)
//		for <manish@localhost> (single-drop); Fri, 27 Nov 2026 12:00:00 +0000 (UTC)
func ReceivedHeader(ri Received) string {
	// Written once a message: one allocation, no fmt.
	b := make([]byte, 0, 160+len(ri.ServerName)+len(ri.ServerIP)+len(ri.LocalHost)+len(ri.PollLabel)+len(ri.Account)+len(ri.Folder)+len(ri.Recipient))
	b = append(b, "Received: from "...)
	b = append(b, ri.ServerName...)
	if ri.ServerIP != "" && ri.ServerIP != ri.ServerName {
		b = append(b, " ["...)
		b = append(b, ri.ServerIP...)
		b = append(b, ']')
	}
	b = append(b, "\n\tby "...)
	b = append(b, ri.LocalHost...)
	b = append(b, " with "...)
	b = append(b, ri.Protocol...)
	b = append(b, " (gofetchmail-"...)
	b = append(b, ri.Version...)
	if ri.PollLabel != "" {
		b = append(b, " polling "...)
		b = append(b, ri.PollLabel...)
		b = append(b, " account "...)
		b = append(b, ri.Account...)
		if ri.Folder != "" {
			b = append(b, " folder "...)
			b = append(b, ri.Folder...)
		}
	}
	b = append(b, ")\n\t"...)
	if ri.Recipient != "" {
		b = append(b, "for <"...)
		b = append(b, ri.Recipient...)
		b = append(b, "> ("...)
		if ri.Multidrop {
			b = append(b, "multi-drop"...)
		} else {
			b = append(b, "single-drop"...)
		}
		b = append(b, "); "...)
	}
	b = ri.Date.AppendFormat(b, "Mon, 02 Jan 2006 15:04:05 -0700 (MST)")
	b = append(b, '\n')
	return string(b)
}

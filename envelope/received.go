package envelope

import (
	"fmt"
	"strings"
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
	var b strings.Builder
	b.WriteString("Received: from ")
	b.WriteString(ri.ServerName)
	if ri.ServerIP != "" && ri.ServerIP != ri.ServerName {
		fmt.Fprintf(&b, " [%s]", ri.ServerIP)
	}
	fmt.Fprintf(&b, "\n\tby %s with %s (gofetchmail-%s", ri.LocalHost, ri.Protocol, ri.Version)
	if ri.PollLabel != "" {
		fmt.Fprintf(&b, " polling %s account %s", ri.PollLabel, ri.Account)
		if ri.Folder != "" {
			fmt.Fprintf(&b, " folder %s", ri.Folder)
		}
	}
	b.WriteString(")\n\t")
	if ri.Recipient != "" {
		drop := "single-drop"
		if ri.Multidrop {
			drop = "multi-drop"
		}
		fmt.Fprintf(&b, "for <%s> (%s); ", ri.Recipient, drop)
	}
	b.WriteString(ri.Date.Format("Mon, 02 Jan 2006 15:04:05 -0700 (MST)"))
	b.WriteString("\n")
	return b.String()
}

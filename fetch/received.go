package fetch

import (
	"fmt"
	"strings"
	"time"
)

// receivedInfo is what the Received header says about one message.
type receivedInfo struct {
	serverName string // the server's name (via or poll name)
	serverIP   string // "" when unknown (an SSH channel)
	localHost  string
	protocol   string // "POP3"
	version    string
	pollLabel  string // with tracepolls
	account    string // with tracepolls
	folder     string // with tracepolls, IMAP
	recipient  string // "" when several
	multidrop  bool
	date       time.Time
}

// receivedHeader renders fetchmail's Received header, naming gofetchmail:
//
//	Received: from pop.example.org [192.0.2.1]
//		by desk.example.net with POP3 (gofetchmail-0.1.0)
//		for <manish@localhost> (single-drop); Fri, 27 Nov 2026 12:00:00 +0000 (UTC)
func receivedHeader(ri receivedInfo) string {
	var b strings.Builder
	b.WriteString("Received: from ")
	b.WriteString(ri.serverName)
	if ri.serverIP != "" && ri.serverIP != ri.serverName {
		fmt.Fprintf(&b, " [%s]", ri.serverIP)
	}
	fmt.Fprintf(&b, "\n\tby %s with %s (gofetchmail-%s", ri.localHost, ri.protocol, ri.version)
	if ri.pollLabel != "" {
		fmt.Fprintf(&b, " polling %s account %s", ri.pollLabel, ri.account)
		if ri.folder != "" {
			fmt.Fprintf(&b, " folder %s", ri.folder)
		}
	}
	b.WriteString(")\n\t")
	if ri.recipient != "" {
		drop := "single-drop"
		if ri.multidrop {
			drop = "multi-drop"
		}
		fmt.Fprintf(&b, "for <%s> (%s); ", ri.recipient, drop)
	}
	b.WriteString(ri.date.Format("Mon, 02 Jan 2006 15:04:05 -0700 (MST)"))
	b.WriteString("\n")
	return b.String()
}

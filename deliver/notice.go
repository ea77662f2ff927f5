package deliver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Notices are the messages gofetchmail writes itself, as fetchmail does: a
// bounce (a delivery status notification) for mail the MTA refused
// permanently, and a warning to the local user about oversized messages
// left on the server. Both are built with LF line ends, as a Tx expects.

// DSN is a bounce in RFC 3464's multipart/report form, laid out as
// fetchmail's send_bouncemail writes it: a human-readable part, a
// message/delivery-status part with one block per failed recipient, and the
// refused message's header as text/rfc822-headers.
type DSN struct {
	// Host is this machine's name: the Reporting-MTA and the domain of
	// the MAILER-DAEMON address in From.
	Host string
	// To is the bounce's recipient (the refused message's sender, or the
	// postmaster).
	To string
	// Reason is the one-line explanation, e.g. "General SMTP/ESMTP error."
	Reason string
	// Failed lists the recipients the message could not be delivered to.
	Failed []FailedRecipient
	// Header is the refused message's header section, as received.
	Header []byte
	// Date is when delivery was attempted (Date, Last-Attempt-Date).
	Date time.Time
	// Boundary separates the parts; "" means a random one.
	Boundary string
}

// FailedRecipient is one recipient of a DSN.
type FailedRecipient struct {
	Address string // as given in RCPT TO
	// Diagnostic is the MTA's reply, e.g. "550 5.1.1 no such user"; its
	// enhanced status code, when present, is the Status field.
	Diagnostic string
}

// MailerDaemon returns "MAILER-DAEMON@host", the From address of a bounce.
func MailerDaemon(host string) string { return "MAILER-DAEMON@" + host }

var enhancedCode = regexp.MustCompile(`^[245]\d\d[ -]([245]\.\d{1,3}\.\d{1,3})\b`)

// Bytes renders the bounce.
func (d *DSN) Bytes() []byte {
	boundary := d.Boundary
	if boundary == "" {
		boundary = randomBoundary()
	}
	date := d.Date.Format(time.RFC1123Z)
	var b bytes.Buffer
	fmt.Fprintf(&b, "Subject: Mail delivery failed: returning message to sender\n")
	fmt.Fprintf(&b, "From: Mail Delivery System <%s>\n", lineSafe(MailerDaemon(d.Host)))
	fmt.Fprintf(&b, "To: %s\n", lineSafe(d.To))
	fmt.Fprintf(&b, "Date: %s\n", date)
	b.WriteString("Auto-Submitted: auto-replied\n")
	b.WriteString("MIME-Version: 1.0\n")
	fmt.Fprintf(&b, "Content-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"%s\"\n\n", boundary)

	fmt.Fprintf(&b, "--%s\nContent-Type: text/plain\n\n", boundary)
	b.WriteString("This message was created automatically by mail delivery software.\n\n")
	b.WriteString("A message that you sent could not be delivered to one or more of its\n")
	b.WriteString("recipients. This is a permanent error.\n\n")
	fmt.Fprintf(&b, "Reason: %s\n\n", lineSafe(d.Reason))
	b.WriteString("The following address(es) failed:\n")
	for _, f := range d.Failed {
		fmt.Fprintf(&b, "%s\n   SMTP error: %s\n\n", lineSafe(f.Address), lineSafe(f.Diagnostic))
	}

	fmt.Fprintf(&b, "--%s\nContent-Type: message/delivery-status\n\n", boundary)
	fmt.Fprintf(&b, "Reporting-MTA: dns; %s\n", lineSafe(d.Host))
	for _, f := range d.Failed {
		fmt.Fprintf(&b, "\nFinal-Recipient: rfc822; %s\n", lineSafe(f.Address))
		fmt.Fprintf(&b, "Last-Attempt-Date: %s\n", date)
		b.WriteString("Action: failed\n")
		fmt.Fprintf(&b, "Status: %s\n", statusOf(f.Diagnostic))
		fmt.Fprintf(&b, "Diagnostic-Code: smtp; %s\n", lineSafe(f.Diagnostic))
	}
	b.WriteString("\n")

	fmt.Fprintf(&b, "--%s\nContent-Type: text/rfc822-headers\n\n", boundary)
	h := bytes.ReplaceAll(d.Header, []byte("\r\n"), []byte("\n"))
	h = bytes.TrimRight(h, "\n")
	if len(h) > 0 {
		b.Write(h)
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\n--%s--\n", boundary)
	return b.Bytes()
}

// statusOf is the DSN Status of a reply: its enhanced code, else the class
// digit followed by ".0.0", as fetchmail fakes it.
func statusOf(diag string) string {
	if m := enhancedCode.FindStringSubmatch(diag); m != nil {
		return m[1]
	}
	if diag != "" && diag[0] >= '2' && diag[0] <= '5' {
		return diag[:1] + ".0.0"
	}
	return "5.0.0"
}

// Warning is a plain-text notice to a local user, laid out as fetchmail's
// open_warning_by_mail writes one (From FETCHMAIL-DAEMON, signed "The
// Fetchmail Daemon").
type Warning struct {
	From    string // "FETCHMAIL-DAEMON@domain"
	To      string
	Subject string
	Body    string // lines separated by \n
	Date    time.Time
}

// Bytes renders the warning.
func (w *Warning) Bytes() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\n", lineSafe(w.From))
	if w.To != "" {
		fmt.Fprintf(&b, "To: %s\n", lineSafe(w.To))
	}
	fmt.Fprintf(&b, "Date: %s\n", w.Date.Format(time.RFC1123Z))
	b.WriteString("Auto-Submitted: auto-generated\n")
	b.WriteString("MIME-Version: 1.0\n")
	b.WriteString("Content-Transfer-Encoding: 8bit\n")
	b.WriteString("Content-Type: text/plain; charset=\"UTF-8\"\n")
	fmt.Fprintf(&b, "Subject: %s\n\n", lineSafe(w.Subject))
	b.WriteString(w.Body)
	if !strings.HasSuffix(w.Body, "\n") {
		b.WriteString("\n")
	}
	b.WriteString("-- \nThe Fetchmail Daemon\n")
	return b.Bytes()
}

// SendMessage delivers one complete message (LF line ends) through d as
// one transaction, and makes it durable when d is a Batcher.
func SendMessage(ctx context.Context, d Deliverer, env Envelope, msg []byte) error {
	tx, err := d.Begin(ctx, env)
	if err != nil {
		return err
	}
	if _, err := tx.Write(msg); err != nil {
		tx.Abort()
		return err
	}
	if err := tx.Commit(); err != nil {
		tx.Abort()
		return err
	}
	if b, ok := d.(Batcher); ok {
		if err := b.Sync(); err != nil {
			return fmt.Errorf("%s: %w", d, err)
		}
	}
	return nil
}

// lineSafe replaces CR and LF, so that a value taken from a message (a
// sender address, a server's reply) cannot add header lines or parts.
func lineSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

func randomBoundary() string {
	var b [12]byte
	rand.Read(b[:])
	return "gofetchmail-dsn-" + hex.EncodeToString(b[:])
}

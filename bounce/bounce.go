package bounce

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/gofetchmail/gofetchmail/deliver"
	"github.com/gofetchmail/gofetchmail/rcparse"
)

// Info is what a bounce needs to know of the message being delivered; it
// is kept only when a refusal can delete the message (Needed).
type Info struct {
	Sender string   // the envelope sender
	To     []string // the local recipients
	Header []byte   // the message's header section, as received
}

// Needed reports whether a bounce of a message for the recipients to may
// be sent, so that its Info is worth keeping. Only an MTA (viaMTA) refuses
// recipients. Under softbounce (the default) a message it refuses entirely
// stays on the server and is not bounced, unless a postmaster takes it
// instead; so without a postmaster nothing is kept unless the message has
// several recipients, some of which the MTA may refuse while the others
// get it.
func Needed(cfg *rcparse.Config, viaMTA bool, to []string) bool {
	if !viaMTA {
		return false
	}
	return !((cfg == nil || (cfg.Softbounce && cfg.Postmaster == "")) && len(to) < 2)
}

// Capture is the Info of a message whose header is still unread in br
// (peeked at, at most peek bytes, never consumed).
func Capture(br *bufio.Reader, peek int, env deliver.Envelope) Info {
	head, _ := br.Peek(peek)
	if i := bytes.Index(head, []byte("\n\n")); i >= 0 {
		head = head[:i+1]
	}
	return Info{Sender: env.From, To: env.To, Header: slices.Clone(head)}
}

// Mailer sends the bounces of one poll entry.
type Mailer struct {
	Config *rcparse.Config
	User   *rcparse.User
	Host   string // this host's name, for the DSN and MAILER-DAEMON
	Now    func() time.Time
	Log    *slog.Logger
	// Send hands a bounce (null sender) for to to the MTA.
	Send func(ctx context.Context, to string, msg []byte) error
}

// Refused sends the bounce for a message the MTA refused permanently and
// the engine is deleting (err is the refusal); other errors send nothing.
func (m *Mailer) Refused(ctx context.Context, info Info, err error) {
	var se *deliver.SMTPError
	if !errors.As(err, &se) || !se.Permanent {
		return
	}
	reason, ok := Reason(m.Config, se)
	if !ok {
		m.Log.Debug("no bounce for this refusal", "code", se.Code, "spam", se.Spam)
		return
	}
	m.DSN(ctx, info, reason, Failed(m.User, se, info.To))
}

// Partial bounces a message the MTA accepted for some recipients for
// those it refused permanently at RCPT TO, as fetchmail does; 553
// refusals are not bounced.
func (m *Mailer) Partial(ctx context.Context, info Info, refused []*deliver.SMTPError) {
	var failed []deliver.FailedRecipient
	for _, se := range refused {
		if _, ok := Reason(m.Config, se); ok {
			failed = append(failed, deliver.FailedRecipient{Address: se.Recipient, Diagnostic: Diagnostic(se)})
		}
	}
	if len(failed) > 0 {
		m.DSN(ctx, info, "Some addresses were rejected by the MDA fetchmail forwards to.", failed)
	}
}

// DSN builds the bounce and sends it to the sender or the postmaster.
func (m *Mailer) DSN(ctx context.Context, info Info, reason string, failed []deliver.FailedRecipient) {
	to := Recipient(m.Config, info.Sender)
	if to == "" {
		m.Log.Info(fmt.Sprintf("no bounce sent: the sender %q is empty or a mailer daemon, or there is no postmaster", info.Sender))
		return
	}
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	dsn := &deliver.DSN{
		Host:   m.Host,
		To:     to,
		Reason: reason,
		Failed: failed,
		Header: info.Header,
		Date:   now(),
	}
	if err := m.Send(ctx, to, dsn.Bytes()); err != nil {
		m.Log.Error(fmt.Sprintf("bounce to %s could not be sent: %v", to, err))
		return
	}
	m.Log.Info(fmt.Sprintf("mail from %s bounced to %s", deliver.MailerDaemon(m.Host), to))
}

// SMTPHosts is where bounces go for an entry whose delivery options are
// so: its SMTP hosts (not its LMTP sockets); an LMTP entry's bounces go to
// SMTP on localhost, as fetchmail sends all of its bounces. It returns the
// options to send a bounce with.
func SMTPHosts(so deliver.SMTPOptions) *deliver.SMTPOptions {
	so.Name, so.BatchLimit = "", 0
	var hosts []string
	if !so.LMTP {
		for _, h := range so.Hosts {
			if !strings.HasPrefix(h, "/") {
				hosts = append(hosts, h)
			}
		}
	}
	if len(hosts) == 0 {
		hosts = []string{"localhost"}
	}
	so.Hosts, so.LMTP = hosts, false
	return &so
}

// Reason is fetchmail's reason line for a permanent refusal, and whether
// it bounces that refusal at all.
func Reason(cfg *rcparse.Config, se *deliver.SMTPError) (string, bool) {
	switch {
	case se.Spam:
		if cfg == nil || !cfg.Spambounce {
			return "", false
		}
		return "spam filter or virus scanner rejected message because: " + Diagnostic(se), true
	case se.Code == 553:
		// Usually a forged sender: fetchmail never bounces these.
		return "", false
	case se.Code == 552:
		return "This message was too large (SMTP error 552).", true
	case se.Stage == "RCPT TO":
		return "Some addresses were rejected by the MDA fetchmail forwards to.", true
	}
	return "General SMTP/ESMTP error.", true
}

// Recipient is where a bounce goes: the sender with bouncemail, else the
// postmaster; "" when none is sent (the sender is empty or a mailer
// daemon, so the message is itself a bounce, or the postmaster is empty).
func Recipient(cfg *rcparse.Config, sender string) string {
	s := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(sender), "<"), ">")
	user, _, _ := strings.Cut(s, "@")
	if s == "" || strings.EqualFold(user, "MAILER-DAEMON") {
		return ""
	}
	if cfg == nil || cfg.Bouncemail {
		return s
	}
	return cfg.Postmaster
}

// Failed names the refused recipients as they were given in RCPT TO: the
// one the refusal names, else every recipient of the message.
func Failed(u *rcparse.User, se *deliver.SMTPError, to []string) []deliver.FailedRecipient {
	diag := Diagnostic(se)
	if se.Recipient != "" {
		return []deliver.FailedRecipient{{Address: se.Recipient, Diagnostic: diag}}
	}
	domain := str(u.Smtpaddress)
	if domain == "" {
		domain = "localhost"
		if h := se.Host; h != "" && !strings.HasPrefix(h, "/") {
			domain, _, _ = strings.Cut(h, "/")
		}
	}
	var out []deliver.FailedRecipient
	for _, r := range to {
		switch {
		case str(u.Smtpname) != "":
			r = str(u.Smtpname)
		case !strings.Contains(r, "@"):
			r += "@" + domain
		}
		out = append(out, deliver.FailedRecipient{Address: r, Diagnostic: diag})
		if str(u.Smtpname) != "" {
			break
		}
	}
	return out
}

// Diagnostic is the MTA's reply as one line: "550 5.1.1 text".
func Diagnostic(se *deliver.SMTPError) string {
	d := fmt.Sprintf("%03d", se.Code)
	if se.Enhanced != "" {
		d += " " + se.Enhanced
	}
	if se.Message != "" {
		d += " " + strings.Join(strings.Fields(se.Message), " ")
	}
	return d
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gofetchmail/gofetchmail/deliver"
	"github.com/gofetchmail/gofetchmail/envelope"
	"github.com/gofetchmail/gofetchmail/rcparse"
)

// Mail gofetchmail sends itself, as fetchmail does (see docs/delivery.md):
//
//   - a bounce (deliver.DSN) when the MTA refused a message permanently and
//     the message is deleted (set no softbounce), or refused some of its
//     recipients while the others (or the postmaster, who gets a message
//     all of whose recipients were refused) got it: to the sender with
//     bouncemail (the default), to the postmaster with no bouncemail, never
//     in reply to a bounce; antispam refusals only with spambounce, 553
//     (bad sender domain) never;
//   - from a detached daemon only (Options.SizeWarnings), a warning to the
//     local user (the postmaster for a multidrop entry) listing the
//     oversized messages a poll left on the server (limit), or deleted
//     (limitflush), at most once per `warnings` seconds.

// bounceInfo is what a bounce needs to know of the message being
// delivered; it is kept only when a refusal can delete the message.
type bounceInfo struct {
	sender string   // the envelope sender
	to     []string // the local recipients
	header []byte   // the message's header section, as received
}

// bounceInfoOf keeps what a bounce of the current message would need: its
// header is still unread in s.br. Only an MTA refuses recipients. Under
// softbounce (the default) a message it refuses entirely stays on the
// server and is not bounced, unless a postmaster takes it instead; so
// without a postmaster nothing is kept unless the message has several
// recipients, some of which the MTA may refuse while the others get it.
func (s *session) bounceInfoOf(env deliver.Envelope) bounceInfo {
	if _, ok := s.dlv.(*deliver.SMTP); !ok {
		return bounceInfo{}
	}
	cfg := s.job.Config
	if (cfg == nil || (cfg.Softbounce && cfg.Postmaster == "")) && len(env.To) < 2 {
		return bounceInfo{}
	}
	head, _ := s.br.Peek(envelope.HeaderPeek)
	if i := bytes.Index(head, []byte("\n\n")); i >= 0 {
		head = head[:i+1]
	}
	return bounceInfo{sender: env.From, to: env.To, header: slices.Clone(head)}
}

// bounce sends the bounce for a message the MTA refused permanently and
// the engine is deleting (err is the refusal). A bounce that cannot be sent
// is logged; the message is deleted all the same, as in fetchmail.
func (s *session) bounce(ctx context.Context, info bounceInfo, err error) {
	var se *deliver.SMTPError
	if !errors.As(err, &se) || !se.Permanent {
		return
	}
	reason, ok := bounceReason(s.job.Config, se)
	if !ok {
		s.opts.logger().Debug("no bounce for this refusal", "code", se.Code, "spam", se.Spam)
		return
	}
	s.sendDSN(ctx, info, reason, failedRecipients(s.job, se, info.to))
}

// bouncePartial bounces a message the MTA accepted for some recipients
// for those it refused permanently at RCPT TO (tx is the committed
// delivery), as fetchmail does; 553 refusals are not bounced.
func (s *session) bouncePartial(ctx context.Context, tx deliver.Tx) {
	pr, ok := tx.(deliver.PartialRefusal)
	if !ok {
		return
	}
	var failed []deliver.FailedRecipient
	for _, se := range pr.Refused() {
		if _, ok := bounceReason(s.job.Config, se); ok {
			failed = append(failed, deliver.FailedRecipient{Address: se.Recipient, Diagnostic: diagnostic(se)})
		}
	}
	if len(failed) > 0 {
		s.sendDSN(ctx, s.last, "Some addresses were rejected by the MDA fetchmail forwards to.", failed)
	}
}

// sendDSN builds the bounce and sends it to the sender or the postmaster.
func (s *session) sendDSN(ctx context.Context, info bounceInfo, reason string, failed []deliver.FailedRecipient) {
	log := s.opts.logger()
	to := bounceRecipient(s.job.Config, info.sender)
	if to == "" {
		log.Info(fmt.Sprintf("no bounce sent: the sender %q is empty or a mailer daemon, or there is no postmaster", info.sender))
		return
	}
	host := s.localHost()
	dsn := &deliver.DSN{
		Host:   host,
		To:     to,
		Reason: reason,
		Failed: failed,
		Header: info.header,
		Date:   s.opts.now(),
	}
	if err := s.sendBounce(ctx, to, dsn.Bytes()); err != nil {
		log.Error(fmt.Sprintf("bounce to %s could not be sent: %v", to, err))
		return
	}
	log.Info(fmt.Sprintf("mail from %s bounced to %s", deliver.MailerDaemon(host), to))
}

// sendBounce hands a bounce (null sender) to the SMTP hosts of the entry;
// an LMTP entry's bounces go to SMTP on localhost, as fetchmail sends all
// of its bounces.
func (s *session) sendBounce(ctx context.Context, to string, msg []byte) error {
	if s.opts.NewDeliverer != nil {
		d, err := s.opts.NewDeliverer("bounce " + to)
		if err != nil {
			return err
		}
		defer d.Close()
		return deliver.SendMessage(ctx, d, deliver.Envelope{To: []string{to}}, msg)
	}
	so := smtpOptions(s.job, s.opts)
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
	d, err := deliver.NewSMTP(so)
	if err != nil {
		return err
	}
	defer d.Close()
	return deliver.SendMessage(ctx, d, deliver.Envelope{To: []string{to}}, msg)
}

// bounceReason is fetchmail's reason line for a permanent refusal, and
// whether it bounces that refusal at all.
func bounceReason(cfg *rcparse.Config, se *deliver.SMTPError) (string, bool) {
	switch {
	case se.Spam:
		if cfg == nil || !cfg.Spambounce {
			return "", false
		}
		return "spam filter or virus scanner rejected message because: " + diagnostic(se), true
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

// bounceRecipient is where a bounce goes: the sender with bouncemail, else
// the postmaster; "" when none is sent (the sender is empty or a mailer
// daemon, so the message is itself a bounce, or the postmaster is empty).
func bounceRecipient(cfg *rcparse.Config, sender string) string {
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

// failedRecipients names the refused recipients as they were given in RCPT
// TO: the one the refusal names, else every recipient of the message.
func failedRecipients(j Job, se *deliver.SMTPError, to []string) []deliver.FailedRecipient {
	diag := diagnostic(se)
	if se.Recipient != "" {
		return []deliver.FailedRecipient{{Address: se.Recipient, Diagnostic: diag}}
	}
	u := j.User
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

// diagnostic is the MTA's reply as one line: "550 5.1.1 text".
func diagnostic(se *deliver.SMTPError) string {
	d := fmt.Sprintf("%03d", se.Code)
	if se.Enhanced != "" {
		d += " " + se.Enhanced
	}
	if se.Message != "" {
		d += " " + strings.Join(strings.Fields(se.Message), " ")
	}
	return d
}

// defaultWarnings is fetchmail's warnings interval, in seconds.
const defaultWarnings = 3600

// lastWarned holds, per idfile account key, when an oversized-messages
// warning was last sent by this daemon process.
var lastWarned sync.Map // string -> time.Time

// warnOversized mails the warning about the oversized messages this poll
// skipped (or, with limitflush, deleted), unless one went out less than
// `warnings` seconds ago. A warning that cannot be sent is logged; the
// messages stay where they are either way.
func (s *session) warnOversized(ctx context.Context, big []message) {
	if len(big) == 0 || !s.opts.SizeWarnings {
		return
	}
	u := s.job.User
	now := s.opts.now()
	interval := time.Duration(u.Warnings) * time.Second
	if u.Warnings <= 0 {
		interval = defaultWarnings * time.Second
	}
	// A clock set back since the last warning does not silence the
	// next ones until it catches up.
	if t, ok := lastWarned.Load(s.key); ok {
		if since := now.Sub(t.(time.Time)); since >= 0 && since < interval {
			return
		}
	}
	log := s.opts.logger()
	to := ""
	if envelope.IsMultidrop(u) {
		if s.job.Config != nil {
			to = s.job.Config.Postmaster
		}
	} else if l := s.localRecipients(); len(l) > 0 {
		to = l[0]
	}
	if to == "" {
		log.Info("no oversized-messages warning sent: no local user or postmaster to send it to")
		return
	}
	domain := str(u.Smtpaddress)
	if domain == "" {
		domain = s.localHost()
	}
	w := &deliver.Warning{
		From:    "FETCHMAIL-DAEMON@" + domain,
		To:      to,
		Subject: "Fetchmail oversized-messages warning",
		Body:    oversizedBody(s.job, big),
		Date:    now,
	}
	d, err := openTarget(s.job, s.opts)
	if err == nil {
		err = deliver.SendMessage(ctx, d, deliver.Envelope{From: w.From, To: []string{to}, Remote: s.label}, w.Bytes())
		d.Close()
	}
	if err != nil {
		log.Error(fmt.Sprintf("oversized-messages warning to %s could not be delivered: %v", to, err))
		return
	}
	lastWarned.Store(s.key, now)
	log.Info(fmt.Sprintf("oversized-messages warning sent to %s", to))
}

// oversizedBody is fetchmail's warning text: the messages grouped by size,
// in the order first seen.
func oversizedBody(j Job, big []message) string {
	verb, where := "skipped", "remain on"
	if j.User.Limitflush {
		verb, where = "deleted", "were deleted on"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "The following oversized messages %s server %s account %s:\n\n", where, j.Server.Pollname, j.User.Remotename)
	count := map[int64]int{}
	var sizes []int64
	for _, m := range big {
		if count[m.size] == 0 {
			sizes = append(sizes, m.size)
		}
		count[m.size]++
	}
	for _, size := range sizes {
		if n := count[size]; n == 1 {
			fmt.Fprintf(&b, "  %d message  %d octets long %s by fetchmail.\n", n, size, verb)
		} else {
			fmt.Fprintf(&b, "  %d messages %d octets long %s by fetchmail.\n", n, size, verb)
		}
	}
	b.WriteString("\n")
	return b.String()
}

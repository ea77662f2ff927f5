package fetch

import (
	"context"
	"fmt"
	"time"

	"github.com/gofetchmail/gofetchmail/bounce"
	"github.com/gofetchmail/gofetchmail/deliver"
	"github.com/gofetchmail/gofetchmail/envelope"
)

// Mail gofetchmail sends itself, as fetchmail does: package bounce decides
// and writes it (see its doc); these are the session's calls.

// bounceInfo is what a bounce needs to know of the message being
// delivered (session.last).
type bounceInfo = bounce.Info

// bounceInfoOf keeps what a bounce of the current message would need (its
// header is still unread in s.br), when one may be sent.
func (s *session) bounceInfoOf(env deliver.Envelope) bounceInfo {
	_, viaMTA := s.dlv.(*deliver.SMTP)
	if !bounce.Needed(s.job.Config, viaMTA, env.To) {
		return bounceInfo{}
	}
	return bounce.Capture(s.br, envelope.HeaderPeek, env)
}

// mailer sends the bounces of this poll.
func (s *session) mailer() *bounce.Mailer {
	return &bounce.Mailer{Config: s.job.Config, User: s.job.User, Host: s.localHost(), Now: s.opts.now, Log: s.opts.logger(), Send: s.sendBounce}
}

// bounce sends the bounce for a message the MTA refused permanently and
// the engine is deleting (err is the refusal).
func (s *session) bounce(ctx context.Context, info bounceInfo, err error) {
	s.mailer().Refused(ctx, info, err)
}

// bouncePartial bounces a message the MTA accepted for some recipients
// for those it refused permanently at RCPT TO (tx is the committed
// delivery).
func (s *session) bouncePartial(ctx context.Context, tx deliver.Tx) {
	if pr, ok := tx.(deliver.PartialRefusal); ok {
		s.mailer().Partial(ctx, s.last, pr.Refused())
	}
}

// sendBounce hands a bounce (null sender) to the SMTP hosts of the entry
// (bounce.SMTPHosts), or to Options.NewDeliverer in tests.
func (s *session) sendBounce(ctx context.Context, to string, msg []byte) error {
	if s.opts.NewDeliverer != nil {
		d, err := s.opts.NewDeliverer("bounce " + to)
		if err != nil {
			return err
		}
		defer d.Close()
		return deliver.SendMessage(ctx, d, deliver.Envelope{To: []string{to}}, msg)
	}
	d, err := deliver.NewSMTP(bounce.SMTPHosts(*smtpOptions(s.job, s.opts)))
	if err != nil {
		return err
	}
	defer d.Close()
	return deliver.SendMessage(ctx, d, deliver.Envelope{To: []string{to}}, msg)
}

// defaultWarnings is fetchmail's warnings interval, in seconds.
const defaultWarnings = 3600

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
	if t, ok := s.opts.warnings().get(s.key); ok {
		if since := now.Sub(t); since >= 0 && since < interval {
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
	s.opts.warnings().set(s.key, now)
	log.Info(fmt.Sprintf("oversized-messages warning sent to %s", to))
}

// oversizedBody is fetchmail's warning text (bounce.OversizedBody).
func oversizedBody(j Job, big []message) string {
	sizes := make([]int64, len(big))
	for i, m := range big {
		sizes[i] = m.Size
	}
	return bounce.OversizedBody(j.Server.Pollname, j.User.Remotename, j.User.Limitflush, sizes)
}

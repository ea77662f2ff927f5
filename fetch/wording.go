package fetch

import (
	"context"
	"fmt"
	"log/slog"
)

// This file holds the lines a user reads after every poll, in fetchmail
// 6.4's words (driver.c), so that a migrating user and a script that reads
// fetchmail's output find what they know.

// mailboxName is fetchmail's "REMOTE at HOST", with " (folder F)" when
// the entry names its folders (fetchmail's buf in driver.c).
func (s *session) mailboxName(folder string) string {
	name := s.job.User.Remotename + " at " + s.job.Server.Pollname
	if folder != "" && len(s.job.User.Mailboxes) > 0 {
		name += " (folder " + folder + ")"
	}
	return name
}

// countLine is fetchmail's summary of a mailbox: "1 message for X.",
// "3 messages (2 seen) for X (6414 octets)."; octets < 0 leaves the size
// out, as fetchmail does for IMAP.
func countLine(count, seen int, mailbox string, octets int64) string {
	noun := "messages"
	if count == 1 {
		noun = "message"
	}
	s := fmt.Sprintf("%d %s", count, noun)
	if seen > 0 {
		s += fmt.Sprintf(" (%d seen)", seen)
	}
	s += " for " + mailbox
	if octets >= 0 {
		s += fmt.Sprintf(" (%d octets)", octets)
	}
	return s + "."
}

// logNoMail says "No mail for X" as fetchmail does: not in a daemon's
// every poll unless -v ("these are pointless in normal daemon mode").
func (s *session) logNoMail(mailbox string) {
	level := slog.LevelInfo
	if s.opts.Daemon {
		level = slog.LevelDebug
	}
	s.opts.logger().Log(context.Background(), level, "No mail for "+mailbox)
}

// pollingLevel is the level of the "polling X via Y" line: a daemon says
// it only with -v, so that its log stays quiet when there is no mail.
func (o *Options) pollingLevel() slog.Level {
	if o.Daemon {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

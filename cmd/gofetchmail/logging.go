package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"log/syslog"
	"os"
	"strings"
	"sync"
	"time"
)

// lineHandler is a slog.Handler that writes fetchmail-style lines:
// "gofetchmail: message key=value", optionally with a timestamp (logfile).
// Warnings and errors go to errw when it is set: fetchmail writes its
// progress to standard output and its complaints to standard error.
type lineHandler struct {
	mu         *sync.Mutex
	w, errw    io.Writer
	level      slog.Leveler
	timestamps bool
	attrs      []slog.Attr
	status     *statusLine // the terminal's progress line, or nil
}

func newLineHandler(w io.Writer, level slog.Leveler, timestamps bool) *lineHandler {
	return &lineHandler{mu: &sync.Mutex{}, w: w, level: level, timestamps: timestamps}
}

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	if h.timestamps {
		b.WriteString(r.Time.Format(time.RFC3339))
		b.WriteByte(' ')
	}
	b.WriteString("gofetchmail: ")
	b.WriteString(formatRecord(r, h.attrs))
	b.WriteByte('\n')
	w := h.w
	if h.errw != nil && r.Level >= slog.LevelWarn {
		w = h.errw
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var err error
	write := func() { _, err = io.WriteString(w, b.String()) }
	if h.status != nil {
		h.status.around(write)
	} else {
		write()
	}
	return err
}

func (h *lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr{}, h.attrs...), as...)
	return &c
}

func (h *lineHandler) WithGroup(string) slog.Handler { return h }

// formatRecord renders the message and its attributes (poll names are
// already in the messages, so "poll" attributes are left out).
func formatRecord(r slog.Record, extra []slog.Attr) string {
	var b strings.Builder
	b.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		if a.Key == "poll" {
			return true
		}
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value.Any())
		return true
	}
	for _, a := range extra {
		add(a)
	}
	r.Attrs(add)
	return b.String()
}

// syslogHandler sends records to syslog with the mail facility, as
// fetchmail does (ident, LOG_PID).
type syslogHandler struct {
	w     *syslog.Writer
	level slog.Leveler
	attrs []slog.Attr
}

// syslogSocketEnv names a unix datagram socket to send syslog records to
// instead of the system's /dev/log (tests listen on one).
const syslogSocketEnv = "GOFETCHMAIL_SYSLOG_SOCKET"

func newSyslogHandler(level slog.Leveler) (*syslogHandler, error) {
	var w *syslog.Writer
	var err error
	if sock := os.Getenv(syslogSocketEnv); sock != "" {
		w, err = syslog.Dial("unixgram", sock, syslog.LOG_MAIL|syslog.LOG_INFO, "gofetchmail")
	} else {
		w, err = syslog.New(syslog.LOG_MAIL|syslog.LOG_INFO, "gofetchmail")
	}
	if err != nil {
		return nil, err
	}
	return &syslogHandler{w: w, level: level}, nil
}

func (h *syslogHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *syslogHandler) Handle(_ context.Context, r slog.Record) error {
	msg := formatRecord(r, h.attrs)
	switch {
	case r.Level >= slog.LevelError:
		return h.w.Err(msg)
	case r.Level >= slog.LevelWarn:
		return h.w.Warning(msg)
	case r.Level >= slog.LevelInfo:
		return h.w.Info(msg)
	}
	return h.w.Debug(msg)
}

func (h *syslogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr{}, h.attrs...), as...)
	return &c
}

func (h *syslogHandler) WithGroup(string) slog.Handler { return h }

// logLevel maps -s and -v to a level: -s shows errors only, -v the
// protocol trace.
func logLevel(f *flags) slog.Level {
	switch {
	case f.verbose > 0:
		return slog.LevelDebug
	case f.silent:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// openLogger builds the logger: syslog with --syslog, the logfile with -L
// (appended, timestamped), else progress on stdout and errors on stderr.
// status, if not nil, is the terminal's progress line that stdout and
// stderr lines must not mix with.
func openLogger(f *flags, syslogOn bool, logfile string, stdout, stderr io.Writer, status *statusLine) (*slog.Logger, func(), error) {
	level := logLevel(f)
	if syslogOn {
		h, err := newSyslogHandler(level)
		if err == nil {
			return slog.New(h), func() { h.w.Close() }, nil
		}
		// No syslog daemon: say so and keep logging to stderr.
		fmt.Fprintf(stderr, "gofetchmail: syslog is not available (%v); logging to standard error\n", err)
	}
	if logfile != "" {
		lf, err := openReopening(logfile)
		if err != nil {
			if inner := errors.Unwrap(err); inner != nil {
				err = inner // the path is in it once
			}
			return nil, nil, fmt.Errorf("cannot open the logfile (%w); give -L a file in an existing directory you can write to", err)
		}
		return slog.New(newLineHandler(lf, level, true)), func() { lf.Close() }, nil
	}
	h := newLineHandler(stdout, level, false)
	h.errw = stderr
	h.status = status
	return slog.New(h), func() {}, nil
}

package rcparse

import (
	"fmt"
	"strings"
)

// DefaultProg is the program name that prefixes messages when
// Options.Prog is empty.
const DefaultProg = "gofetchmail"

// Warning is a diagnostic fetchmail prints on stderr without rejecting the
// file (multidrop without envelope, port/ssl mismatch, missing logfile).
type Warning struct {
	File string // rc file path (absolute, as in fetchmail's messages)
	Line int    // 0 when fetchmail gives no line
	Msg  string
	// Bare is set for messages fetchmail prints without a program-name
	// prefix (the logfile warning).
	Bare bool
	Prog string // program name prefix; DefaultProg when empty
}

// String formats the warning the way fetchmail prints it.
func (w Warning) String() string {
	return formatMsg(w.Prog, w.File, w.Line, w.Msg, w.Bare)
}

func formatMsg(prog, file string, line int, msg string, bare bool) string {
	if prog == "" {
		prog = DefaultProg
	}
	switch {
	case bare:
		return msg
	case line > 0:
		return fmt.Sprintf("%s:%s:%d: %s", prog, file, line, msg)
	default:
		return prog + ": " + msg
	}
}

// SyntaxError is a rejected rc file (fetchmail exit status 5, PS_SYNTAX):
// a syntax error, or an error found by the post-parse checks. When
// fetchmail prints several messages (a "server option after user options"
// followed by a syntax error, or the port messages), the first one is the
// SyntaxError itself and the others are in More, in print order.
type SyntaxError struct {
	File  string // rc file path (absolute)
	Line  int    // 0 for post-parse errors that carry no line
	Token string // the offending token's raw text, "end of input" at EOF
	Msg   string // "syntax error", "server option after user options", or a post-parse message
	Bare  bool   // printed without any prefix (fetchmail's LMTP message)
	Prog  string // program name prefix; DefaultProg when empty
	More  []*SyntaxError
	// Hint, when not empty, suggests the keyword a word of line
	// HintLine was probably meant to be (`"pasword": did you mean
	// "password"?`). It is gofetchmail's addition and not part of Error,
	// which stays fetchmail's text; HintText formats it.
	Hint     string
	HintLine int
}

// HintText returns the hint as a line in the style of the error
// ("gofetchmail:FILE:LINE: ..."), or "" when there is none.
func (e *SyntaxError) HintText() string {
	for _, m := range append([]*SyntaxError{e}, e.More...) {
		if m.Hint != "" {
			return formatMsg(m.Prog, m.File, m.HintLine, m.Hint, false)
		}
	}
	return ""
}

// Error returns all messages, one per line, in fetchmail's wording.
func (e *SyntaxError) Error() string {
	lines := []string{e.line()}
	for _, m := range e.More {
		lines = append(lines, m.line())
	}
	return strings.Join(lines, "\n")
}

func (e *SyntaxError) line() string {
	msg := e.Msg
	if e.Token != "" || e.Line > 0 {
		msg = fmt.Sprintf("%s at %s", e.Msg, e.Token)
	}
	return formatMsg(e.Prog, e.File, e.Line, msg, e.Bare)
}

// PermissionError is an rc file fetchmail refuses to read because of its
// type, mode or owner (fetchmail exit status 6, PS_IOERR).
type PermissionError struct {
	Path string // absolute
	Msg  string
	Fix  string // a command that fixes it ("chmod 600 /abs/path"), or ""
}

// Error returns fetchmail's message, e.g. "File X must have no more than
// -rwx------ (0700) permissions.".
func (e *PermissionError) Error() string { return e.Msg }

// LogfileError is a "set logfile" that exists but is not writable:
// fetchmail aborts with exit status 23.
type LogfileError struct {
	Path string
}

// Error returns fetchmail's message.
func (e *LogfileError) Error() string {
	return `Logfile "` + e.Path + `" is not writable, aborting.`
}

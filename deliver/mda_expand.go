package deliver

import (
	"errors"
	"strings"
)

// senderVar is the environment variable that carries the envelope sender to
// the MDA shell; the recipients are its positional parameters.
const senderVar = "GOFETCHMAIL_SENDER"

// safeArg makes an address safe to hand to a program as an argument: a
// leading '-' (which the MDA would read as an option) becomes '_'. A NUL
// byte cannot be passed to a program at all and is refused.
func safeArg(s string) (string, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return "", errors.New("address contains a NUL byte")
	}
	if strings.HasPrefix(s, "-") {
		s = "_" + s[1:]
	}
	return s, nil
}

// expandMDA rewrites fetchmail's placeholders in an MDA command for
// /bin/sh -c CMD sh RCPT...: %F becomes a reference to $GOFETCHMAIL_SENDER,
// %T and %s references to the positional parameters (the recipients).
//
// No address is ever pasted into the script: the shell expands the
// references at run time, and the result of an expansion is never parsed
// as shell code, so a hostile sender such as '$(touch /tmp/x)' is inert
// whatever the quoting around the placeholder. The quoting only decides the
// word boundaries:
//   - unquoted: %F becomes "$GOFETCHMAIL_SENDER" (one word), %T "$@" (one
//     word per recipient);
//   - alone inside quotes the user wrote ('%F' or "%T"): the quotes are
//     replaced and the value is one word ("$*" for %T);
//   - inside a longer "..." string: ${GOFETCHMAIL_SENDER} or ${*};
//   - inside a longer '...' string: the string is closed around the
//     reference: '<'"$GOFETCHMAIL_SENDER"'>'.
//
// A placeholder escaped with a backslash (\%F) and other % sequences are
// copied as they are.
func expandMDA(cmd string) string {
	type refs struct{ bare, word, inDQ string }
	vals := map[byte]refs{
		'F': {`"$` + senderVar + `"`, `"$` + senderVar + `"`, "${" + senderVar + "}"},
		'T': {`"$@"`, `"$*"`, "${*}"},
		's': {`"$@"`, `"$*"`, "${*}"},
	}
	var b strings.Builder
	var quote byte // 0, '\'' or '"': the quoting in force
	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		switch {
		case c == '\\' && quote != '\'':
			// An escape: copy it and the escaped byte.
			b.WriteByte(c)
			if i+1 < len(cmd) {
				i++
				b.WriteByte(cmd[i])
			}
			continue
		case quote == 0 && (c == '\'' || c == '"'):
			// A quote that holds nothing but a placeholder: replace
			// the quotes and the placeholder by one word.
			if i+3 < len(cmd) && cmd[i+1] == '%' && cmd[i+3] == c {
				if v, ok := vals[cmd[i+2]]; ok {
					b.WriteString(v.word)
					i += 3
					continue
				}
			}
			quote = c
		case quote == c:
			quote = 0
		case c == '%' && i+1 < len(cmd):
			if v, ok := vals[cmd[i+1]]; ok {
				switch quote {
				case 0:
					b.WriteString(v.bare)
				case '"':
					b.WriteString(v.inDQ)
				default:
					b.WriteString("'" + v.word + "'")
				}
				i++
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

package deliver

import "strings"

// senderVar is the environment variable that carries the envelope sender to
// the MDA shell; the recipients are its positional parameters.
const senderVar = "GOFETCHMAIL_SENDER"

// mdaArg makes an address safe to hand to the MDA, whatever the MDA does
// with it. The placeholders never reach this shell's parser (expandMDA),
// but many MDA commands run a shell of their own on the value: "ssh host
// procmail -f %F", "su joe -c 'procmail -f %F'", "sh -c '... %F ...'",
// eval, a procmail recipe. So, like fetchmail (which only turns ' into _
// and pastes the value inside '...', inert in one shell but not in the
// next), and stricter: every character other than an ASCII letter, digit
// or one of @ . _ + = - becomes '_', byte by byte for what is not valid
// UTF-8 and rune by rune for what is; a leading '-' (which the MDA would
// read as an option) becomes '_' too. What is left means nothing to any
// shell in any quoting, nor to a glob, tilde or brace expansion. The
// message is delivered all the same: an address that needed replacing
// was not one a local MDA could use as it stood, and refusing it would
// leave the message on the server for ever. Addresses as mail carries
// them keep their shape: SRS and VERP senders (bounce+joe=example.org@...,
// SRS0=HHH=TT=example.org=joe@...) are unchanged.
func mdaArg(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
			return r
		case r == '@' || r == '.' || r == '_' || r == '+' || r == '=' || r == '-':
			return r
		}
		return '_'
	}, s)
	if strings.HasPrefix(s, "-") {
		s = "_" + s[1:]
	}
	return s
}

// expandMDA rewrites fetchmail's placeholders in an MDA command for
// /bin/sh -c CMD sh RCPT...: %F becomes a reference to $GOFETCHMAIL_SENDER,
// %T and %s references to the positional parameters (the recipients).
//
// No address is ever pasted into the script: the shell expands the
// references at run time, and the result of an expansion is never parsed
// as shell code by this shell, whatever the quoting around the
// placeholder. A program the MDA runs may parse it again (a nested sh -c,
// ssh, su -c): that is why the values are first restricted by mdaArg. The
// quoting only decides the word boundaries:
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

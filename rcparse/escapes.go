package rcparse

import "strings"

// escapes processes the escape sequences of rcfile_l.l's escapes():
// \n \t \b \r \\, \xHH (at most two hex digits), \0oo (octal, at most three
// characters including the 0), \ddd (DECIMAL, at most three digits), any
// other \c gives c, backslash-newline is removed and a trailing backslash
// is dropped. Like the C original, the result ends at the first NUL byte,
// whether it came from the input or from an escape such as \0.
func escapes(in []byte) string {
	var b strings.Builder
	for i := 0; i < len(in); {
		c := in[i]
		if c == 0 {
			break
		}
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(in) || in[i+1] == 0 { // backslash at the end
			break
		}
		d := in[i+1]
		var val int
		switch {
		case d == 'x' || d == 'X':
			i += 2
			for n := 0; n < 2 && i < len(in) && hexVal(in[i]) >= 0; n++ {
				val = val*16 + hexVal(in[i])
				i++
			}
		case d == '0':
			i++
			for n := 0; n < 3 && i < len(in) && in[i] >= '0' && in[i] <= '7'; n++ {
				val = val*8 + int(in[i]-'0')
				i++
			}
		case d >= '1' && d <= '9':
			i++
			for n := 0; n < 3 && i < len(in) && in[i] >= '0' && in[i] <= '9'; n++ {
				val = val*10 + int(in[i]-'0')
				i++
			}
		default:
			i += 2
			switch d {
			case '\n':
				continue
			case 'n':
				val = '\n'
			case 't':
				val = '\t'
			case 'b':
				val = '\b'
			case 'r':
				val = '\r'
			default:
				val = int(d)
			}
		}
		if byte(val) == 0 { // C string ends here
			break
		}
		b.WriteByte(byte(val))
	}
	return b.String()
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

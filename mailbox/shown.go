package mailbox

import "strconv"

// ShownUID is how a log line shows a server's UID: as it is when it is an
// RFC 1939 one, else Go-quoted in ASCII, so that a UID holding a line break,
// NEL or U+2028 cannot start a forged line in the log.
func ShownUID(uid string) string {
	if uid == "" {
		return "(none)"
	}
	for i := 0; i < len(uid); i++ {
		if uid[i] < 0x21 || uid[i] > 0x7e || uid[i] == '"' {
			return strconv.QuoteToASCII(uid)
		}
	}
	return uid
}

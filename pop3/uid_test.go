package pop3

import (
	"errors"
	"strings"
	"testing"
)

// A UIDL line's UID is the rest of the line, as fetchmail's parseuid takes
// it: "a b" and "a c" are two UIDs, not both "a" (which made them look
// like duplicates, fetched again on every poll with keep). A UID longer
// than MaxUIDLen is refused before it is copied: a listing of 20,000 UIDs
// of 50 KB would hold a gigabyte.
func TestParseUID(t *testing.T) {
	for line, want := range map[string]string{
		"1 abc":                               "abc",
		"  2\tabc  ":                          "abc",
		"3 a b":                               "a b",
		"4 a\rb":                              "a\rb",
		"5 n\u0085el":                         "n\u0085el",
		"6 " + strings.Repeat("x", MaxUIDLen): strings.Repeat("x", MaxUIDLen),
	} {
		u, err := parseUID([]byte(line))
		if err != nil || u.UID != want {
			t.Errorf("%q: got %q, %v; want %q", line, u.UID, err, want)
		}
	}
	for _, line := range []string{"1", "1 ", "x abc", "0 abc", "7 " + strings.Repeat("x", MaxUIDLen+1), "8 " + strings.Repeat("x", 50000)} {
		var pe *ProtocolError
		if _, err := parseUID([]byte(line)); !errors.As(err, &pe) {
			t.Errorf("%.20q...: got %v, want a *ProtocolError", line, err)
		} else if len(pe.Error()) > 300 {
			t.Errorf("error too long: %d bytes", len(pe.Error()))
		}
	}
}

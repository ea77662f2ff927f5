package imap

import (
	"errors"
	"slices"
	"testing"

	goimap "github.com/emersion/go-imap/v2"
)

// What a hostile server can put in a SEARCH answer: go-imap's own
// AllUIDs panics on "*" and never returns on UID 4294967295.
func TestSearchUIDs(t *testing.T) {
	set := func(ranges ...goimap.UIDRange) *goimap.SearchData {
		return &goimap.SearchData{All: goimap.UIDSet(ranges)}
	}
	const top = goimap.UID(1<<32 - 1)
	got, err := searchUIDs(set(goimap.UIDRange{Start: 3, Stop: 5}, goimap.UIDRange{Start: top, Stop: top}), 4)
	if err != nil || !slices.Equal(got, []uint32{4, 5, 1<<32 - 1}) {
		t.Errorf("got %v, %v", got, err)
	}
	for name, d := range map[string]*goimap.SearchData{
		"star":      set(goimap.UIDRange{Start: 7, Stop: 0}),
		"zero":      set(goimap.UIDRange{Start: 0, Stop: 0}),
		"too many":  set(goimap.UIDRange{Start: 1, Stop: top}),
		"many sets": set(goimap.UIDRange{Start: 1, Stop: MaxSearchResults}, goimap.UIDRange{Start: MaxSearchResults + 2, Stop: MaxSearchResults + 2}),
	} {
		var pe *ProtocolError
		if _, err := searchUIDs(d, 0); !errors.As(err, &pe) {
			t.Errorf("%s: got %v, want a *ProtocolError", name, err)
		}
	}
	if got, err := searchUIDs(&goimap.SearchData{}, 0); err != nil || len(got) != 0 {
		t.Errorf("no answer: got %v, %v", got, err)
	}
}

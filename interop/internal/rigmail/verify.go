package rigmail

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Report is the outcome of Verify.
type Report struct {
	// Verified counts originals delivered at least once.
	Verified int
	// Missing counts originals not delivered.
	Missing int
	// Duplicated counts originals delivered more than once.
	Duplicated int
	// Unexpected counts delivered messages that match no original.
	Unexpected int
	// Problems describes each difference, one line per problem.
	Problems []string
}

// OK reports whether every original was delivered exactly once and
// nothing else was.
func (r Report) OK() bool {
	return r.Missing == 0 && r.Duplicated == 0 && r.Unexpected == 0
}

// String returns the one-line summary, for example
// "40 messages verified, 0 missing, 0 duplicated".
func (r Report) String() string {
	s := fmt.Sprintf("%d messages verified, %d missing, %d duplicated", r.Verified, r.Missing, r.Duplicated)
	if r.Unexpected > 0 {
		s += fmt.Sprintf(", %d unexpected", r.Unexpected)
	}
	return s
}

// Verify compares the messages in maildir (new and cur) with the originals
// (*.eml in the folder originals). Before comparing it removes the first
// header of a delivered message when that is a "Received: from" header (the
// one the retriever adds), turns CRLF into LF on both sides and adds a final
// newline where one is missing (POP3 cannot carry its absence).
func Verify(maildir, originals string) (Report, error) {
	var r Report
	origFiles, err := filepath.Glob(filepath.Join(originals, "*.eml"))
	if err != nil {
		return r, fmt.Errorf("rigmail: %w", err)
	}
	if len(origFiles) == 0 {
		return r, fmt.Errorf("rigmail: no originals (*.eml) in %s", originals)
	}
	byHash := make(map[[32]byte]string, len(origFiles)) // digest -> original file
	byID := make(map[string][]byte)                     // Message-ID -> normalised original
	seen := make(map[string]int, len(origFiles))
	for _, f := range origFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return r, fmt.Errorf("rigmail: %w", err)
		}
		data = normalize(data)
		byHash[sha256.Sum256(data)] = f
		byID[messageID(data)] = data
		seen[f] = 0
	}
	delivered, err := maildirFiles(maildir)
	if err != nil {
		return r, err
	}
	for _, f := range delivered {
		data, err := os.ReadFile(f)
		if err != nil {
			return r, fmt.Errorf("rigmail: %w", err)
		}
		data = normalize(StripReceived(data))
		if orig, ok := byHash[sha256.Sum256(data)]; ok {
			seen[orig]++
			continue
		}
		r.Unexpected++
		r.Problems = append(r.Problems, f+": "+explain(data, byID))
	}
	names := make([]string, 0, len(seen))
	for f := range seen {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		switch n := seen[f]; {
		case n == 0:
			r.Missing++
			r.Problems = append(r.Problems, f+": not delivered")
		case n > 1:
			r.Verified++
			r.Duplicated++
			r.Problems = append(r.Problems, fmt.Sprintf("%s: delivered %d times", f, n))
		default:
			r.Verified++
		}
	}
	return r, nil
}

// StripReceived returns msg without its first header when that header is
// a "Received: from" line (with its folded continuation lines).
func StripReceived(msg []byte) []byte {
	if !bytes.HasPrefix(msg, []byte("Received: from")) {
		return msg
	}
	rest := msg
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			return nil
		}
		rest = rest[i+1:]
		if len(rest) == 0 || (rest[0] != ' ' && rest[0] != '\t') {
			return rest
		}
	}
}

// normalize turns CRLF into LF and makes sure data ends with a newline.
func normalize(data []byte) []byte {
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	return data
}

// messageID returns the value of the first Message-ID header in the header
// section of msg, or "".
func messageID(msg []byte) string {
	for _, line := range bytes.Split(msg, []byte("\n")) {
		if len(line) == 0 {
			break
		}
		if k, v, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(k, []byte("Message-ID")) {
			return string(bytes.TrimSpace(v))
		}
	}
	return ""
}

// explain says how a delivered message that matches no original differs
// from the original with the same Message-ID.
func explain(got []byte, byID map[string][]byte) string {
	want, ok := byID[messageID(got)]
	if !ok {
		return "matches no original (Message-ID " + messageID(got) + " unknown)"
	}
	gl := bytes.Split(got, []byte("\n"))
	wl := bytes.Split(want, []byte("\n"))
	for i := 0; i < min(len(gl), len(wl)); i++ {
		if !bytes.Equal(gl[i], wl[i]) {
			return fmt.Sprintf("differs from the original %s at line %d: got %q, want %q",
				messageID(got), i+1, clip(gl[i]), clip(wl[i]))
		}
	}
	return fmt.Sprintf("differs from the original %s in length: %d lines, want %d", messageID(got), len(gl), len(wl))
}

// clip shortens a line for a diagnostic.
func clip(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + fmt.Sprintf("...(%d bytes)", len(b))
	}
	return string(b)
}

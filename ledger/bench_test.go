package ledger

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkUIDStoreSave is the idfile rewrite of one batch when 100,000
// kept messages are remembered: add 64 UIDs and save durably.
func BenchmarkUIDStoreSave(b *testing.B) {
	s, err := LoadUIDStore(filepath.Join(b.TempDir(), "fetchids"))
	if err != nil {
		b.Fatal(err)
	}
	key := AccountKey("msingh", "pop.example.org")
	kept := make([]string, 100000)
	for i := range kept {
		kept[i] = fmt.Sprintf("%08x.%06d.dovecot", i*7919, i)
	}
	s.Add(key, kept...)
	if err := s.Save(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(s.encode())))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		batch := make([]string, 64)
		for j := range batch {
			batch[j] = fmt.Sprintf("new-%d-%d", i, j)
		}
		s.Add(key, batch...)
		if err := s.Save(); err != nil {
			b.Fatal(err)
		}
		s.Remove(key, batch...)
	}
}

// BenchmarkUIDStoreLoad parses an idfile of 100,000 UIDs and builds its
// sets: the work LoadUIDStore hands to a goroutine, which a poll waits
// for only after UIDL (it connects, logs in and waits for STAT
// meanwhile).
func BenchmarkUIDStoreLoad(b *testing.B) {
	var buf bytes.Buffer
	for i := 0; i < 100000; i++ {
		fmt.Fprintf(&buf, "msingh@pop.example.org %08x.%06d.dovecot\n", i*7919, i)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s, err := parseUIDStore(data)
		if err != nil {
			b.Fatal(err)
		}
		s.Len("") // waits for the parse and the sets
	}
}

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

// BenchmarkUIDStoreLoad parses an idfile of 100,000 UIDs: "parse" is the
// part a poll waits for before it connects, "indexed" adds the sets built
// in the background (which a poll waits for only after UIDL).
func BenchmarkUIDStoreLoad(b *testing.B) {
	var buf bytes.Buffer
	for i := 0; i < 100000; i++ {
		fmt.Fprintf(&buf, "msingh@pop.example.org %08x.%06d.dovecot\n", i*7919, i)
	}
	data := buf.Bytes()
	for _, indexed := range []bool{false, true} {
		name := "parse"
		if indexed {
			name = "indexed"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				s, err := parseUIDStore(data)
				if err != nil {
					b.Fatal(err)
				}
				if indexed {
					s.Len("")
				} else {
					b.StopTimer()
					s.Len("") // not measured: no index left building
					b.StartTimer()
				}
			}
		})
	}
}

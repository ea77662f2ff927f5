package pop3

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// refDecode is a plain, whole-buffer model of the multi-line decoding:
// split at LF, drop one CR before it, stop at ".", unstuff one leading
// dot. complete is false when the input ends before the "." line.
func refDecode(in []byte) (out []byte, complete bool) {
	out = []byte{}
	for {
		i := bytes.IndexByte(in, '\n')
		if i < 0 {
			out = append(out, bytes.TrimPrefix(in, []byte("."))...)
			return out, false
		}
		line := bytes.TrimSuffix(in[:i], []byte("\r"))
		in = in[i+1:]
		if string(line) == "." {
			return out, true
		}
		out = append(out, bytes.TrimPrefix(line, []byte("."))...)
		out = append(out, '\n')
	}
}

// decodeAll reads a MessageReader over in with the given buffer sizes.
func decodeAll(in []byte, bufSize, readSize int, oneByte bool) ([]byte, int64, error) {
	var r io.Reader = bytes.NewReader(in)
	if oneByte {
		r = iotest.OneByteReader(r)
	}
	m := newMessageReader(bufio.NewReaderSize(r, bufSize))
	var out []byte
	p := make([]byte, readSize)
	for {
		n, err := m.Read(p)
		out = append(out, p[:n]...)
		if err != nil {
			return out, m.Bytes(), err
		}
	}
}

// checkDecode compares the reader with refDecode under several buffer
// sizes, so CRLF pairs and dots fall across buffer boundaries.
func checkDecode(t testing.TB, in []byte) {
	want, complete := refDecode(in)
	for _, bs := range []int{16, 17, 19, bufSize} {
		for _, rs := range []int{1, 3, 4096} {
			for _, one := range []bool{false, true} {
				got, n, err := decodeAll(in, bs, rs, one)
				if complete && err != io.EOF {
					t.Fatalf("buf %d read %d: err %v, want io.EOF; input %q", bs, rs, err, in)
				}
				if !complete && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("buf %d read %d: err %v, want io.ErrUnexpectedEOF; input %q", bs, rs, err, in)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("buf %d read %d one %v:\ninput %q\ngot   %q\nwant  %q", bs, rs, one, in, got, want)
				}
				if n != int64(len(got)) {
					t.Fatalf("Bytes() = %d, delivered %d", n, len(got))
				}
			}
		}
	}
}

func TestMessageReaderDecoding(t *testing.T) {
	cases := []struct{ in, want string }{
		{".\r\n", ""},
		{"a\r\nb\r\n.\r\n", "a\nb\n"},
		{"..\r\n...\r\n.x\r\n.\r\n", ".\n..\nx\n"},
		{"bare\nlf\n.\n", "bare\nlf\n"},
		{"bare\rcr\r\n.\r\n", "bare\rcr\n"},
		{"cr at end\r\r\n.\r\n", "cr at end\r\n"},
		{"nul\x00byte \xff\xfe 8bit\r\n.\r\n", "nul\x00byte \xff\xfe 8bit\n"},
		{"\r\n\r\n.\r\n", "\n\n"},
		{".\r.\r\n.\r\n", "\r.\n"},
		{"a\r\n.\r\nafter terminator", "a\n"},
	}
	for _, c := range cases {
		got, _, err := decodeAll([]byte(c.in), bufSize, 4096, false)
		if err != io.EOF || string(got) != c.want {
			t.Errorf("decode %q = %q, %v; want %q, io.EOF", c.in, got, err, c.want)
		}
		checkDecode(t, []byte(c.in))
	}
}

func TestMessageReaderUnexpectedEOF(t *testing.T) {
	for _, in := range []string{"", "a\r\n", "a\r\npartial", "a\r\n.", "a\r\n.\r", "x\r"} {
		got, _, err := decodeAll([]byte(in), bufSize, 4096, false)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("decode %q: err %v, want io.ErrUnexpectedEOF (got %q)", in, err, got)
		}
		checkDecode(t, []byte(in))
	}
}

func TestMessageReaderLongLine(t *testing.T) {
	// Lines far longer than the buffer, with CRLF and dots around them.
	long := strings.Repeat("x", 200) + "\r" + strings.Repeat(".", 100)
	in := "." + long + "\r\n" + long + "\r\n..\r\n.\r\n"
	checkDecode(t, []byte(in))

	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB line
	in2 := append(append([]byte(".."), big...), "\r\n.\r\n"...)
	got, _, err := decodeAll(in2, bufSize, 32<<10, false)
	if err != io.EOF || !bytes.Equal(got, append(append([]byte("."), big...), '\n')) {
		t.Fatalf("1 MiB line: err %v, len %d", err, len(got))
	}
}

// TestMessageReaderBoundedMemory: decoding never allocates, however long
// the lines, so memory is the one fixed buffer.
func TestMessageReaderBoundedMemory(t *testing.T) {
	line := bytes.Repeat([]byte("x"), 1<<20)
	in := append(append(append([]byte{}, line...), "\r\n."...), line...)
	in = append(in, "\r\n.\r\n"...)
	src := bytes.NewReader(in)
	br := bufio.NewReaderSize(src, bufSize)
	p := make([]byte, 4096)
	allocs := testing.AllocsPerRun(3, func() {
		src.Reset(in)
		br.Reset(src)
		m := newMessageReader(br)
		for {
			if _, err := m.Read(p); err != nil {
				if err != io.EOF {
					t.Fatal(err)
				}
				return
			}
		}
	})
	// One allocation is the MessageReader itself.
	if allocs > 1 {
		t.Errorf("decoding 2 MiB lines: %v allocations per message, want at most 1", allocs)
	}
}

func TestMessageReaderCloseDrains(t *testing.T) {
	br := bufio.NewReaderSize(strings.NewReader("a\r\nb\r\n.\r\nNEXT\r\n"), 16)
	m := newMessageReader(br)
	p := make([]byte, 1)
	if n, err := m.Read(p); n != 1 || err != nil {
		t.Fatalf("Read = %d, %v", n, err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if m.Bytes() != 1 {
		t.Errorf("Bytes after Close = %d, want 1 (draining is not delivery)", m.Bytes())
	}
	rest, _ := io.ReadAll(br)
	if string(rest) != "NEXT\r\n" {
		t.Errorf("after Close the stream is at %q, want the next reply", rest)
	}
	if n, err := m.Read(p); n != 0 || err != io.EOF {
		t.Errorf("Read after Close = %d, %v; want 0, io.EOF", n, err)
	}
}

// FuzzMessageReader feeds arbitrary server bytes: the reader must not
// panic, must agree with refDecode, and (its buffer being fixed) uses
// bounded memory whatever the line lengths.
func FuzzMessageReader(f *testing.F) {
	for _, s := range []string{".\r\n", "a\r\n..\r\n.\r\n", "x\r\r\n.\n", ".\r", "\r\n.\r\n", "a\x00\xff\n.\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkDecode(t, in)
	})
}

func BenchmarkMessageReader(b *testing.B) {
	// A 4 MiB message of typical lines, some dot-stuffed, some long.
	var msg bytes.Buffer
	for msg.Len() < 4<<20 {
		msg.WriteString("Received: from mail.example.org by mx.example.net; Mon, 1 Jan 2024\r\n")
		msg.WriteString("..a line that starts with a dot and is stuffed\r\n")
		msg.WriteString(strings.Repeat("body text ", 30) + "\r\n")
		msg.WriteString("\r\n")
	}
	msg.WriteString(".\r\n")
	in := msg.Bytes()
	src := bytes.NewReader(in)
	br := bufio.NewReaderSize(src, bufSize)
	p := make([]byte, 32<<10)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		src.Reset(in)
		br.Reset(src)
		m := newMessageReader(br)
		for {
			_, err := m.Read(p)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

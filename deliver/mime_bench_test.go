package deliver

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"strings"
	"testing"

	"github.com/emersion/go-message/textproto"
)

// The mimedecode implementation was chosen by these benchmarks (run with
// go test -run '^$' -bench MIMEDecode ./deliver). Each decodes the
// quoted-printable parts of a message: "handwritten" is the header filter
// with mimedecode (mimeWriter, what delivery uses: it also writes the
// whole message back out), "gomessage" walks the same message with
// emersion/go-message's streaming textproto.MultipartReader, recursing
// into nested multiparts to the same depth bound and decoding with
// mime/quotedprintable, and writes nothing back (a lower bound on what a
// rewrite on top of it would cost), "plain" is the header filter without
// mimedecode, the cost to compare with. Measured on the 2-core
// development machine under a load of about 8 (December 2026, Go 1.26;
// ranges over 3 runs of 30 iterations, -benchtime 30x -count 3):
//
//	ordinary: 1.5 MB, two quoted-printable parts and a 1 MB base64 one
//	  plain 0.01-0.05 ms   handwritten 3.3-5.4 ms   gomessage 4.4-18 ms
//	hostile: 40,000 nested multiparts, 400,000 "--z" lines, 4 MB
//	  plain 0.01 ms        handwritten 16-37 ms     gomessage 215-280 ms
//
// The hand-written writer is the faster of the two (go-message reads each
// byte through one part reader per nesting level), streams in the
// direction delivery needs (an io.Writer in the header filter's chain,
// where the reader would need a pipe and a goroutine per message) and
// passes the preamble, transport padding and epilogue on byte for byte,
// which the reader drops; so it stays. Before the map look-up and the
// depth bound, the hostile message cost it about 40 s (16 billion
// boundary comparisons, see TestMIMEDecodeHostileNesting). "plain" is
// nearly free because without mimedecode the filter hands the body on
// untouched; issue 14 measured a whole poll of the hostile message
// without mimedecode at 0.02 s of CPU, the same order as handwritten.

// ordinaryMIME is a 1.5 MB multipart/mixed message: an alternative of a
// text and an HTML quoted-printable part, and a base64 attachment.
func ordinaryMIME() []byte {
	var b bytes.Buffer
	b.WriteString("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"outer\"\n\n--outer\n" +
		"Content-Type: multipart/alternative; boundary=\"alt\"\n\n")
	for _, ct := range []string{"text/plain", "text/html"} {
		fmt.Fprintf(&b, "--alt\nContent-Type: %s; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n", ct)
		for b.Len()%(256<<10) > 100 || b.Len() < 200 {
			b.WriteString("Caf=C3=A9 au lait, tr=C3=A8s bien; a=3Db and a line long enough to need a soft =\nbreak at the end\n")
			if b.Len()%(256<<10) < 200 {
				break
			}
		}
	}
	b.WriteString("--alt--\n--outer\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n")
	raw := bytes.Repeat([]byte("0123456789abcdef"), 48<<10)
	enc := base64.StdEncoding.EncodeToString(raw)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\n--outer--\n")
	return b.Bytes()
}

// hostileMIMEMessage is hostileMIME with its header.
func hostileMIMEMessage() []byte {
	body, _, _ := hostileMIME(40000, 400000)
	return []byte("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b0\"\n\n" + body)
}

func BenchmarkMIMEDecode(b *testing.B) {
	for _, msg := range []struct {
		name string
		data []byte
	}{{"ordinary", ordinaryMIME()}, {"hostile", hostileMIMEMessage()}} {
		b.Run(msg.name+"/plain", func(b *testing.B) { benchFilter(b, msg.data, false) })
		b.Run(msg.name+"/handwritten", func(b *testing.B) { benchFilter(b, msg.data, true) })
		b.Run(msg.name+"/gomessage", func(b *testing.B) {
			b.SetBytes(int64(len(msg.data)))
			for b.Loop() {
				if err := walkGoMessage(msg.data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchFilter(b *testing.B, msg []byte, decode bool) {
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		f := NewHeaderFilter(io.Discard, HeaderOptions{MIMEDecode: decode})
		for s := msg; len(s) > 0; {
			k := min(32<<10, len(s))
			if _, err := f.Write(s[:k]); err != nil {
				b.Fatal(err)
			}
			s = s[k:]
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// walkGoMessage reads msg's header and decodes its quoted-printable parts
// with go-message's multipart reader, as deep as mimeWriter follows.
func walkGoMessage(msg []byte) error {
	br := bufio.NewReader(bytes.NewReader(msg))
	h, err := textproto.ReadHeader(br)
	if err != nil {
		return err
	}
	return walkParts(br, partBoundary(h.Get("Content-Type")), 1)
}

func walkParts(r io.Reader, boundary string, depth int) error {
	mr := textproto.NewMultipartReader(r, boundary)
	for {
		p, err := mr.NextPart()
		if err != nil {
			// io.EOF, or the unexpected EOF of a multipart left open
			// (the error does not wrap it): the parts end with the
			// message, as in mimeWriter.
			return nil
		}
		if b := partBoundary(p.Header.Get("Content-Type")); b != "" && depth < maxMIMEDepth {
			if err := walkParts(p, b, depth+1); err != nil {
				return err
			}
			continue
		}
		var body io.Reader = p
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			body = quotedprintable.NewReader(p)
		}
		if _, err := io.Copy(io.Discard, body); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return err
		}
	}
}

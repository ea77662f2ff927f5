package deliver

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// filter runs msg through a header filter, written in chunks of size n.
func filter(t *testing.T, msg string, opts HeaderOptions, n int) string {
	t.Helper()
	var out bytes.Buffer
	f := NewHeaderFilter(&out, opts)
	for s := msg; len(s) > 0; {
		k := min(n, len(s))
		if _, err := io.WriteString(f, s[:k]); err != nil {
			t.Fatal(err)
		}
		s = s[k:]
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestHeaderFilter(t *testing.T) {
	rw := HeaderOptions{Rewrite: true, Server: "pop.example.org"}
	for _, tc := range []struct {
		name string
		opts HeaderOptions
		in   string
		want string
	}{
		{"nothing", HeaderOptions{}, "Status: RO\nTo: joe\n\nbody\n", "Status: RO\nTo: joe\n\nbody\n"},
		{"rewrite bare", rw, "To: joe\nSubject: joe\n\nTo: joe\n", "To: joe@pop.example.org\nSubject: joe\n\nTo: joe\n"},
		{"rewrite list", rw, "Cc: joe, ann@x.org,\n bob (Bob B)\n\n", "Cc: joe@pop.example.org, ann@x.org,\n bob@pop.example.org (Bob B)\n\n"},
		{"rewrite angle", rw, "From: \"Smith, Joe\" <joe>\nReply-To: Ann <ann@x.org>, <bob >\n\n",
			"From: \"Smith, Joe\" <joe@pop.example.org>\nReply-To: Ann <ann@x.org>, <bob @pop.example.org>\n\n"},
		{"rewrite group", rw, "To: undisclosed-recipients:;\nBcc: Team: joe, ann;\n\n",
			"To: undisclosed-recipients:;\nBcc: Team: joe@pop.example.org, ann@pop.example.org;\n\n"},
		{"rewrite leaves phrases", rw, "To: Joe Smith\nFrom: <>\nTO: \"j o\"\n\n", "To: Joe Smith\nFrom: <>\nTO: \"j o\"@pop.example.org\n\n"},
		{"rewrite resent and crlf", rw, "Resent-To: joe\r\nX-To: joe\r\n\r\nx\r\n", "Resent-To: joe@pop.example.org\r\nX-To: joe\r\n\r\nx\r\n"},
		{"dropstatus", HeaderOptions{DropStatus: true}, "Status: RO\nX-Mozilla-Status: 0001\nX-Status: A\n\nStatus: body\n", "X-Status: A\n\nStatus: body\n"},
		{"dropdelivered", HeaderOptions{DropDelivered: true}, "Delivered-To: a@b\n  folded\nTo: c\nDelivered-To: x\n\n", "To: c\n\n"},
		{"stripcr", HeaderOptions{StripCR: true}, "A: b\r\n\r\nx\r\ny\rz\r", "A: b\n\nx\ny\rz\r"},
		{"forcecr", HeaderOptions{ForceCR: true}, "A: b\n\nx\r\ny\n", "A: b\r\n\r\nx\r\ny\r\n"},
		{"header only", HeaderOptions{DropStatus: true}, "Status: R\nA: b\n", "A: b\n"},
		{"empty header", HeaderOptions{DropStatus: true}, "\nStatus: R\n", "\nStatus: R\n"},
		{"empty", HeaderOptions{DropStatus: true}, "", ""},
		{"mimedecode", HeaderOptions{MIMEDecode: true},
			"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: Quoted-Printable\n\nGr=C3=BC=C3=9Fe, soft=\nbreak =3D =ZZ a=\r\nb end=",
			"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nGrüße, softbreak = =ZZ ab end="},
		{"mimedecode multipart untouched", HeaderOptions{MIMEDecode: true},
			"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=x\nContent-Transfer-Encoding: quoted-printable\n\n=41\n",
			"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=x\nContent-Transfer-Encoding: quoted-printable\n\n=41\n"},
		{"mimedecode multipart", HeaderOptions{MIMEDecode: true}, mpIn, mpWant},
		{"mimedecode needs MIME-Version", HeaderOptions{MIMEDecode: true},
			"Content-Transfer-Encoding: quoted-printable\n\n=41\n", "Content-Transfer-Encoding: quoted-printable\n\n=41\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, n := range []int{1, 2, 3, 7, 1 << 20} {
				if got := filter(t, tc.in, tc.opts, n); got != tc.want {
					t.Fatalf("chunks of %d:\n got %q\nwant %q", n, got, tc.want)
				}
			}
		})
	}
}

const mpIn = "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\npreamble =41\n" +
	"--b1\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\ncaf=C3=A9 soft=\n" +
	"--b1 \nContent-Type: multipart/alternative;\n boundary=b2\n\n--b2\nContent-Transfer-Encoding: Quoted-Printable\n\n=41=\nb\n--b2--\n" +
	"--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nQUJD=\n--b1x\n" +
	"--b1--\nepilogue =41\n"

const mpWant = "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\npreamble =41\n" +
	"--b1\nContent-Type: text/plain\nContent-Transfer-Encoding: 8bit\n\ncafé soft\n" +
	"--b1 \nContent-Type: multipart/alternative;\n boundary=b2\n\n--b2\nContent-Transfer-Encoding: 8bit\n\nAb\n--b2--\n" +
	"--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nQUJD=\n--b1x\n" +
	"--b1--\nepilogue =41\n"

func TestHeaderFilterCap(t *testing.T) {
	// A header longer than MaxHeader is passed through unprocessed, and the
	// filter holds at most about MaxHeader bytes.
	long := "Status: RO\nX-Long: " + strings.Repeat("a", 100) + "\n\nbody\n"
	opts := HeaderOptions{DropStatus: true, MaxHeader: 64}
	if got := filter(t, long, opts, 10); got != long {
		t.Fatalf("got %q", got)
	}
	var out bytes.Buffer
	f := NewHeaderFilter(&out, opts).(*headerFilter)
	for range 100 {
		io.WriteString(f, "X-A: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n")
		if len(f.head) > 64+60 {
			t.Fatalf("holding %d bytes", len(f.head))
		}
	}
}

func TestHeaderFilterAfterClose(t *testing.T) {
	f := NewHeaderFilter(io.Discard, HeaderOptions{})
	f.Close()
	if _, err := f.Write([]byte("x")); err == nil {
		t.Fatal("Write after Close succeeded")
	}
}

// FuzzHeaderFilter checks that the output does not depend on how the
// message is cut into writes, and that without options the filter is the
// identity.
func FuzzHeaderFilter(f *testing.F) {
	f.Add("From: joe\nTo: \"a\" <b>, (c) d\nStatus: RO\n\nbody=3D\r\n", uint8(3))
	f.Add("MIME-Version: 1.0\nContent-Transfer-Encoding: quoted-printable\n\n=4\n=\r", uint8(1))
	f.Add("To: a:(b;c)\"d\\\"e,\" <f(g)>;\n\n", uint8(2))
	f.Add(mpIn, uint8(5))
	all := HeaderOptions{Rewrite: true, Server: "s.example", DropStatus: true, DropDelivered: true, MIMEDecode: true, ForceCR: true, MaxHeader: 128}
	f.Fuzz(func(t *testing.T, msg string, n uint8) {
		k := int(n%16) + 1
		if got := filter(t, msg, HeaderOptions{}, k); got != msg {
			t.Fatalf("identity: got %q", got)
		}
		whole := filter(t, msg, all, len(msg)+1)
		if got := filter(t, msg, all, k); got != whole {
			t.Fatalf("chunks of %d: %q, whole: %q", k, got, whole)
		}
	})
}

// BenchmarkHeaderFilter measures the filter with fetchmail's defaults on a
// 64 KiB message written in 32 KiB chunks.
func BenchmarkHeaderFilter(b *testing.B) {
	msg := []byte("From: joe\nTo: ann, Bob <bob>\nSubject: x\nStatus: RO\n\n" + strings.Repeat("body line of text\n", 3600))
	opts := HeaderOptions{Rewrite: true, Server: "pop.example.org", DropStatus: true}
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		f := NewHeaderFilter(io.Discard, opts)
		for p := msg; len(p) > 0; {
			n := min(len(p), 32<<10)
			f.Write(p[:n])
			p = p[n:]
		}
		f.Close()
	}
}

// FuzzRewriteField checks that rewrite only ever inserts "@server": with
// the insertions removed the field is unchanged.
func FuzzRewriteField(f *testing.F) {
	for _, s := range []string{"To: joe, \"a,b\" <c>, (x) d;\n", "Cc: g: a, b;, <>, e@f\n", "From: ((a) b\\) <c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, field string) {
		const suffix = "@s.example"
		out := string(rewriteField([]byte(field), "s.example"))
		if strings.ReplaceAll(out, suffix, "") != strings.ReplaceAll(field, suffix, "") {
			t.Fatalf("rewrite changed more than it added:\n in %q\nout %q", field, out)
		}
	})
}

func TestMIMEDecodeLongLines(t *testing.T) {
	head := "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b1\n\n--b1\nContent-Transfer-Encoding: quoted-printable\n\n"
	long := strings.Repeat("=41", 50000) // 150 KB, past maxMIMELine
	fake := "--b1" + strings.Repeat("x", 70000) + "\n"
	in := head + long + "=\n" + fake + "--b1--\n"
	want := strings.Replace(head, "quoted-printable", "8bit", 1) + strings.Repeat("A", 50000) + fake + "--b1--\n"
	for _, n := range []int{7, 4096, 1 << 20} {
		if got := filter(t, in, HeaderOptions{MIMEDecode: true}, n); got != want {
			t.Fatalf("chunks of %d: got %d bytes, want %d", n, len(got), len(want))
		}
	}
}

// TestLowerFieldName: the filter's allocation-free name is fieldName
// lower-cased.
func TestLowerFieldName(t *testing.T) {
	for _, fl := range []string{"Status: RO\n", "X-Mozilla-Status: 1\r\n", "DELIVERED-TO : x\n", "From:\n a@b\n", "no colon\n", ": empty\n", "Long-" + strings.Repeat("N", 60) + ": v\n"} {
		want := strings.ToLower(fieldName([]byte(fl)))
		if got := string(lowerFieldName(nil, []byte(fl))); got != want {
			t.Errorf("lowerFieldName(%q) = %q, want %q", fl, got, want)
		}
	}
}

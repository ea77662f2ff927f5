package rigmail

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Message is one generated test message.
type Message struct {
	// Name is the file name of the original, "0001.eml" for the first.
	Name string
	// Kind says which corner of the protocol the message exercises.
	Kind string
	// Data is the message with LF line ends, as stored in the Maildir.
	Data []byte
}

// kind builds the body-specific part of a message: extra headers (each
// ending in "\n") and the body.
type kind struct {
	name  string
	build func(g *gen) (headers, body string)
}

// kinds is the cycle Generate walks through; message i gets kinds[i%len].
var kinds = []kind{
	{"plain", plainBody},
	{"multipart-base64", multipartBody},
	{"utf8-8bit", utf8Body},
	{"latin1-8bit", latin1Body},
	{"dot-lines", dotBody},
	{"long-lines", longLineBody},
	{"from-lines", fromBody},
	{"folded-headers", foldedBody},
	{"no-final-newline", noNewlineBody},
	{"empty-body", emptyBody},
}

// gen carries the state for building one message.
type gen struct {
	i, n, size int
	rnd        *rand.Rand
}

// Generate returns n messages of roughly size bytes each (the long-line
// kind is always larger). The result depends only on n and size.
func Generate(n, size int) []Message {
	msgs := make([]Message, 0, n)
	for i := 1; i <= n; i++ {
		k := kinds[(i-1)%len(kinds)]
		g := &gen{i: i, n: n, size: size, rnd: rand.New(rand.NewPCG(uint64(i), uint64(size)))}
		extra, body := k.build(g)
		var b bytes.Buffer
		date := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(i) * time.Minute)
		fmt.Fprintf(&b, "Return-Path: <sender%d@example.org>\n", i%7)
		fmt.Fprintf(&b, "Date: %s\n", date.Format(time.RFC1123Z))
		fmt.Fprintf(&b, "From: Sender %d <sender%d@example.org>\n", i%7, i%7)
		b.WriteString("To: Manish Singh <msingh@localhost>\n")
		if k.name != "folded-headers" {
			fmt.Fprintf(&b, "Subject: rig message %d of %d (%s)\n", i, n, k.name)
		}
		fmt.Fprintf(&b, "Message-ID: <rig-%04d-%d@gofetchmail.test>\n", i, size)
		b.WriteString("MIME-Version: 1.0\n")
		b.WriteString(extra)
		b.WriteString("\n")
		b.WriteString(body)
		msgs = append(msgs, Message{Name: fmt.Sprintf("%04d.eml", i), Kind: k.name, Data: b.Bytes()})
	}
	return msgs
}

var words = strings.Fields(`lorem ipsum dolor sit amet consectetur adipiscing elit sed do
	eiusmod tempor incididunt ut labore et dolore magna aliqua mail server tunnel
	secure forward port fetch deliver header body message line dot stuff`)

// text returns filler paragraphs of about n bytes, lines under 76 columns.
func (g *gen) text(n int) string {
	var b, line strings.Builder
	for b.Len()+line.Len() < n {
		w := words[g.rnd.IntN(len(words))]
		if line.Len()+len(w)+1 > 72 {
			b.WriteString(line.String() + "\n")
			line.Reset()
			if g.rnd.IntN(6) == 0 {
				b.WriteString("\n")
			}
		}
		if line.Len() > 0 {
			line.WriteByte(' ')
		}
		line.WriteString(w)
	}
	b.WriteString(line.String() + "\n")
	return b.String()
}

// pad returns filler so that a body of length have reaches the target size.
func (g *gen) pad(have int) string {
	if rest := g.size - have - 300; rest > 0 { // ~300 bytes of common headers
		return g.text(rest)
	}
	return ""
}

const plainType = "Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n"

func plainBody(g *gen) (string, string) {
	body := fmt.Sprintf("Hello Manish,\n\nthis is plain message %d.\n\n", g.i)
	return plainType, body + g.pad(len(body))
}

func multipartBody(g *gen) (string, string) {
	boundary := fmt.Sprintf("=_rig_%04d_boundary", g.i)
	raw := make([]byte, max(g.size/2, 64))
	for j := range raw {
		raw[j] = byte(g.rnd.Uint32())
	}
	enc := base64.StdEncoding.EncodeToString(raw)
	var att strings.Builder
	for len(enc) > 76 {
		att.WriteString(enc[:76] + "\n")
		enc = enc[76:]
	}
	att.WriteString(enc + "\n")
	var b strings.Builder
	b.WriteString("This is a multi-part message in MIME format.\n\n")
	fmt.Fprintf(&b, "--%s\n", boundary)
	b.WriteString("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n")
	b.WriteString("Attached you find the data (caf=C3=A9 cr=C3=A8me), with a soft line br=\neak.\n\n")
	fmt.Fprintf(&b, "--%s\n", boundary)
	fmt.Fprintf(&b, "Content-Type: application/octet-stream; name=\"data-%04d.bin\"\n", g.i)
	b.WriteString("Content-Transfer-Encoding: base64\n")
	fmt.Fprintf(&b, "Content-Disposition: attachment; filename=\"data-%04d.bin\"\n\n", g.i)
	b.WriteString(att.String())
	fmt.Fprintf(&b, "\n--%s--\n", boundary)
	headers := fmt.Sprintf("Content-Type: multipart/mixed;\n boundary=\"%s\"\n", boundary)
	return headers, b.String()
}

func utf8Body(g *gen) (string, string) {
	body := "Grüße aus Köln! Ça va très bien. Ελληνικά, Русский, 日本語のテキスト, emoji 📬✉️.\n" +
		"Zeile zwei mit ß und €.\n\n"
	return "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n",
		body + g.pad(len(body))
}

func latin1Body(g *gen) (string, string) {
	// "Grüße, café crème, ñandú, Æsir ±½" in ISO-8859-1 bytes.
	body := "Gr\xfc\xdfe, caf\xe9 cr\xe8me, \xf1and\xfa, \xc6sir \xb1\xbd\nNon-UTF-8 bytes \xff\xfe\xa0end.\n\n"
	return "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n",
		body + g.pad(len(body))
}

func dotBody(g *gen) (string, string) {
	body := "Lines that POP3 must dot-stuff:\n" +
		".\n" +
		"..\n" +
		"...\n" +
		".leading dot\n" +
		"..two leading dots\n" +
		" .space then dot\n" +
		".\n" +
		"\n" +
		".\n" +
		"trailing spaces   \n" +
		"\ttab-indented line\n" +
		"end of dots\n"
	return plainType, body + g.pad(len(body)) + ".\n"
}

func longLineBody(g *gen) (string, string) {
	var b strings.Builder
	b.WriteString("Long lines follow (fetchmail breaks lines at 8190 bytes).\n")
	for _, n := range []int{998, 999, 8190, 8191, 9000, 20000} {
		fmt.Fprintf(&b, "%d:", n)
		prefix := len(fmt.Sprintf("%d:", n))
		for j := prefix; j < n; j++ {
			b.WriteByte("abcdefghijklmnopqrstuvwxyz0123456789"[(j+g.i)%36])
		}
		b.WriteString("\n")
	}
	b.WriteString("after the long lines\n")
	return plainType, b.String()
}

func fromBody(g *gen) (string, string) {
	body := "From the desk of the tester:\n" +
		"From sender@example.org Mon Jan  2 03:04:05 2026\n" +
		">From an already quoted line\n" +
		"From \n" +
		"from lowercase is harmless\n\n"
	return plainType, body + g.pad(len(body))
}

func foldedBody(g *gen) (string, string) {
	var refs strings.Builder
	for j := 0; j < 12; j++ {
		fmt.Fprintf(&refs, "\n\t<ref-%d-%d@gofetchmail.test>", g.i, j)
	}
	headers := fmt.Sprintf("Subject: rig message %d of %d (folded-headers), a subject\n"+
		" long enough that it was folded\n\tonce with a space and once with a tab\n", g.i, g.n) +
		"References:" + refs.String() + "\n" +
		"X-Encoded: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\n" +
		"X-Long-Value: " + strings.Repeat("word ", 60) + "\n" +
		"X-Empty:\n" +
		plainType
	body := "The headers of this message are folded.\n\n"
	return headers, body + g.pad(len(body))
}

func noNewlineBody(g *gen) (string, string) {
	body := "This message has no newline at its end.\n\n"
	return plainType, body + g.pad(len(body)) + "last line without newline"
}

func emptyBody(g *gen) (string, string) {
	return plainType, ""
}

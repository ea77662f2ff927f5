package deliver

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"testing"
)

// echoSMTP is an SMTP server offering AUTH mech that refuses the login
// with a 535 quoting what the client sent: as sent (base64) and decoded.
func echoSMTP(t *testing.T, mech string) (addr string, echoed chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	echoed = make(chan string, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				fmt.Fprintf(c, "220 echo ESMTP\r\n")
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					f := strings.Fields(line)
					if len(f) == 0 {
						return
					}
					switch strings.ToUpper(f[0]) {
					case "EHLO", "HELO":
						fmt.Fprintf(c, "250-echo\r\n250 AUTH %s\r\n", mech)
					case "AUTH":
						var sent []string
						if len(f) > 2 {
							sent = append(sent, f[2])
						}
						chal := map[string][]string{"CRAM-MD5": {base64.StdEncoding.EncodeToString([]byte("<1.2@echo>"))}, "LOGIN": {"UGFzc3dvcmQ6"}}[mech]
						if len(sent) == 0 && mech == "PLAIN" {
							chal = []string{""}
						}
						for _, ch := range chal {
							fmt.Fprintf(c, "334 %s\r\n", ch)
							resp, err := br.ReadString('\n')
							if err != nil {
								return
							}
							sent = append(sent, strings.TrimSpace(resp))
						}
						var parts []string
						for _, s := range sent {
							raw, _ := base64.StdEncoding.DecodeString(s)
							parts = append(parts, fmt.Sprintf("%s = %q = %s", s, raw, strings.ReplaceAll(string(raw), "\x00", "^@")))
						}
						msg := "5.7.8 you sent " + strings.Join(parts, "; ")
						echoed <- msg
						fmt.Fprintf(c, "535 %s\r\n", msg)
					case "QUIT":
						fmt.Fprintf(c, "221 bye\r\n")
						return
					default:
						fmt.Fprintf(c, "502 no\r\n")
					}
				}
			}()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return "127.0.0.1/" + port, echoed // fetchmail's host/port
}

// TestSMTPAuthEchoScrubbed: an SMTP server that echoes the AUTH PLAIN,
// LOGIN or CRAM-MD5 exchange in its 535 gets neither the password nor its
// base64 nor the SASL response into the error (issue 14.2).
func TestSMTPAuthEchoScrubbed(t *testing.T) {
	const user, pw = "fm", "Pass w0rd!"
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, mech := range []string{"PLAIN", "LOGIN", "CRAM-MD5"} {
		t.Run(mech, func(t *testing.T) {
			addr, echoed := echoSMTP(t, mech)
			s := newTestSMTP(t, SMTPOptions{Hosts: []string{addr}, AuthUser: user, AuthPassword: pw})
			tx, err := s.Begin(context.Background(), Envelope{To: []string{"joe"}})
			if err == nil {
				tx.Abort()
				t.Fatal("the login was not refused")
			}
			var echo string
			select {
			case echo = <-echoed:
			default:
				t.Fatalf("the server saw no AUTH: %v", err)
			}
			msg := err.Error()
			forms := []string{pw, b64(pw), b64("\x00" + user + "\x00" + pw), "^@" + user + "^@" + pw}
			if mech == "CRAM-MD5" {
				_, rest, _ := strings.Cut(echo, "you sent ")
				forms = append(forms, strings.Fields(rest)[0]) // the response as sent
			}
			for _, f := range forms {
				if strings.Contains(msg, f) {
					t.Errorf("error shows %q: %s", f, msg)
				}
			}
			if !strings.Contains(msg, "535") {
				t.Errorf("error lost the reply: %s", msg)
			}
		})
	}
}

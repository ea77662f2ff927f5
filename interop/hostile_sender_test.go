//go:build interop

package interop

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/gofetchmail/gofetchmail/interop/internal/rigmail"
)

// TestHostileSenderThroughPostfix forwards a message whose sender and
// recipients are written as an attacker would, through the real postfix,
// to a multidrop entry with the wildcard: the quoted "a> NOTIFY=NEVER"
// sender stays one address (postfix takes it, and its Return-Path shows
// it quoted), and of the recipients only the plain local one is given to
// postfix; the quoted address, the %-hack and the !-path are not, so
// postfix's log never names attacker.example.
func TestHostileSenderThroughPostfix(t *testing.T) {
	port := mta(t)
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	fillMessages(t, []rigmail.Message{
		{Name: "0001.eml", Data: []byte("From: \"a> NOTIFY=NEVER\"@evil.example\nTo: joe@rig.example\n" +
			"Subject: sender\nMessage-ID: <hostile-1@gofetchmail.test>\n\nbody\n")},
		{Name: "0002.eml", Data: []byte("Return-Path: <a@rig.example>\nFrom: a@rig.example\n" +
			"To: \"victim@attacker.example\"@rig.example, victim%attacker.example@rig.example,\n" +
			" attacker.example!victim@rig.example, kilo@rig.example\n" +
			"Subject: relay?\nMessage-ID: <hostile-2@gofetchmail.test>\n\nbody\n")},
	})
	rc := fmt.Sprintf(`set postmaster "pm"
poll 127.0.0.1 with protocol pop3 and port %s no envelope no dns localdomains rig.example
  user msingh there is * here password foobar sslproto ''
  smtphost 127.0.0.1/%s smtpaddress rig.example
`, rig["RIG_POP3_PORT"], port)
	r := h.runArgs(t, "-f", h.rc(t, rc))
	expectExit(t, r, 0)
	if !strings.Contains(r.stderr, "multidrop: not delivering to the local part") {
		t.Errorf("want the refused local parts logged:\n%v", r)
	}
	serverHolds(t, 0)
	got := map[string]string{} // RCPT TO -> MAIL FROM
	for _, m := range mtaDelivered(t, 2) {
		got[m.deliveredTo] = m.returnPath
	}
	if got["joe@rig.example"] != `<"a> NOTIFY=NEVER"@evil.example>` || got["kilo@rig.example"] != "<a@rig.example>" {
		t.Errorf("postfix delivered (RCPT TO: MAIL FROM) %q, want joe@rig.example from <\"a> NOTIFY=NEVER\"@evil.example> and kilo@rig.example from <a@rig.example>", got)
	}
	if log, err := os.ReadFile(rig["RIG_MTA_LOG"]); err == nil && strings.Contains(string(log), "attacker.example") {
		t.Errorf("postfix was given an attacker.example address:\n%s", log)
	}
}

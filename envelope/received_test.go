package envelope

import "testing"

func TestReceivedHeaderShape(t *testing.T) {
	h := ReceivedHeader(Received{ServerName: "pop.example.org", ServerIP: "192.0.2.1", LocalHost: "desk", Protocol: "POP3", Version: "1.0", Recipient: "manish@localhost"})
	want := "Received: from pop.example.org [192.0.2.1]\n\tby desk with POP3 (gofetchmail-1.0)\n\tfor <manish@localhost> (single-drop); Mon, 01 Jan 0001 00:00:00 +0000 (UTC)\n"
	if h != want {
		t.Errorf("got\n%q\nwant\n%q", h, want)
	}
}

package fetch

import (
	"crypto/tls"
	"fmt"
	"strings"
	"testing"

	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
)

// -v -v adds fetchmail's extra diagnostics to the -v protocol trace: the
// UID list and what each message is taken for, the delivery, the idfile
// writes, TLS details; -v alone has none of them, and neither level ever
// shows the password.
func TestVerboseTwiceAddsDiagnostics(t *testing.T) {
	extra := []string{
		"UID list for msingh@127.0.0.1: 1 UIDs of messages on the server are known",
		"1 is seen (UID uid-0001",
		"2 is unseen (UID uid-0002",
		"about to deliver message 2 (UID uid-0002) to maildir ",
		"envelope from <a@example.org> to [manish]",
		"deliveries made durable (fsync) and their UIDs written to ",
		"new UID list for msingh@127.0.0.1: 0 UIDs kept, 3 of deleted messages forgotten",
		"TLS: TLS 1.3, cipher suite TLS_",
		"TLS: certificate depth 0: subject CN=localhost, issuer CN=localhost, valid ",
	}
	for _, verbose := range []int{1, 2} {
		t.Run(fmt.Sprintf("verbose %d", verbose), func(t *testing.T) {
			cert := newTestCert(t)
			e := newTestEnv(t, testMessages(3), &pop3test.ServerOptions{TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert.tls}}})
			e.rejob(t, pollRC(e.srv.Addr, "sslcertfile "+cert.file))
			e.opts.Verbose = verbose
			e.uids.Add(AccountKey("msingh", "127.0.0.1"), "uid-0001") // delivered by an earlier run
			res := e.poll(t)
			if res.Err != nil || res.Delivered != 2 || res.Deleted != 3 {
				t.Fatalf("result %+v\n%s", res, e.log)
			}
			log := e.log.String()
			if !strings.Contains(log, "POP3> STAT") {
				t.Errorf("no protocol trace at -v:\n%s", log)
			}
			for _, x := range extra {
				if has := strings.Contains(log, x); has != (verbose == 2) {
					t.Errorf("verbose %d: line %q present = %v\n%s", verbose, x, has, log)
				}
			}
			if strings.Contains(log, "foobar") {
				t.Errorf("the password appears in the log:\n%s", log)
			}
		})
	}
}

// Package interop holds gofetchmail's tests against real servers: a private
// dovecot (POP3) and a private OpenSSH sshd on 127.0.0.1, started by
// scripts/rig-up. The tests carry the build tag "interop", so plain
// "go test ./..." skips them; scripts/test runs them with
//
//	go test -tags interop -count=1 -v ./interop/...
//
// after bringing the rig up. The messages the tests fetch come from
// interop/internal/rigmail, which the rig-fill and rig-verify scripts use
// too (through interop/cmd/rigfill and interop/cmd/rigverify).
package interop

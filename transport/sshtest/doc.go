// Package sshtest runs an in-process SSH server on a loopback port, for
// tests and for `gofetchmail demo`, much as net/http/httptest does for HTTP.
//
// The server accepts password and public-key logins from the users it is
// given, serves direct-tcpip channels (what `ssh -L` and
// transport.SSHClient.DialContext open) and, optionally, exec requests. By
// default a direct-tcpip channel is connected with net.Dial, but only to
// loopback targets; ServerOptions.Forward lets a test route any host:port to
// an in-process server instead.
package sshtest

// Package rigmail makes the test messages of the interop rig and checks a
// retriever's deliveries against them.
//
// Generate builds deterministic messages that exercise the awkward corners
// of POP3 retrieval: MIME with base64, 8-bit UTF-8 and Latin-1 bodies, lines
// that need dot-stuffing, very long lines, "From " lines, folded headers, a
// message without a final newline. Fill writes them into the server's
// Maildir and keeps a copy of each as an original; Verify compares a
// delivered Maildir with those originals, one copy each.
package rigmail

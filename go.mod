module github.com/gofetchmail/gofetchmail

go 1.26.8

require (
	github.com/coreos/go-systemd/v22 v22.6.0
	github.com/emersion/go-imap/v2 v2.0.0-beta.8
	github.com/emersion/go-maildir v0.6.0
	github.com/emersion/go-sasl v0.0.0-20241020182733-b788ff22d5a6
	github.com/emersion/go-smtp v0.25.1
	github.com/kevinburke/ssh_config v1.6.0
	github.com/knadh/go-pop3 v1.0.1
	github.com/spf13/pflag v1.1.0
	golang.org/x/crypto v0.59.0
	golang.org/x/sys v0.50.0
	golang.org/x/term v0.48.0
)

require (
	github.com/emersion/go-message v0.18.2 // indirect
	golang.org/x/oauth2 v0.38.0 // indirect
)

package fetch

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"

	"github.com/gofetchmail/gofetchmail/deliver"
	"github.com/gofetchmail/gofetchmail/rcparse"
)

// openDeliverer chooses the delivery target of a user entry: the rc
// extensions maildir and mbox (which --maildir and --mbox override), then mda,
// then the local user's mailbox (~/Maildir when it exists, else the system
// mbox). SMTP forwarding, fetchmail's default, is not built yet: a
// configuration that names smtphost explicitly without an MDA or mailbox is
// refused rather than silently delivered elsewhere.
func openDeliverer(u *rcparse.User, opts *Options) (deliver.Deliverer, error) {
	open := func(kind, target string) (deliver.Deliverer, error) {
		if opts.NewDeliverer != nil {
			return opts.NewDeliverer(kind + " " + target)
		}
		switch kind {
		case "maildir":
			return deliver.NewMaildir(target, nil)
		case "mbox":
			return deliver.NewMbox(target, nil)
		case "mda":
			return deliver.NewMDA(target, nil)
		}
		return nil, fmt.Errorf("unknown delivery target %q", kind)
	}
	switch {
	case u.Maildir != nil && *u.Maildir != "":
		return open("maildir", *u.Maildir)
	case u.Mbox != nil && *u.Mbox != "":
		return open("mbox", *u.Mbox)
	case u.MDA != nil && *u.MDA != "":
		return open("mda", *u.MDA)
	}
	home := opts.Home
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	if home != "" {
		md := filepath.Join(home, "Maildir")
		if fi, err := os.Stat(filepath.Join(md, "new")); err == nil && fi.IsDir() {
			opts.logger().Info("no delivery target configured; delivering to the local Maildir", "maildir", md)
			return open("maildir", md)
		}
	}
	if cu, err := user.Current(); err == nil {
		mb := filepath.Join("/var/mail", cu.Username)
		if f, err := os.OpenFile(mb, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err == nil {
			f.Close()
			opts.logger().Info("no delivery target configured; delivering to the system mailbox", "mbox", mb)
			return open("mbox", mb)
		}
	}
	return nil, fmt.Errorf("no delivery target: give --maildir PATH or --mbox PATH, or set maildir \"PATH\", mbox \"PATH\" or mda \"COMMAND\" in the rc file")
}

package doctor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofetchmail/gofetchmail/deliver"
	"github.com/gofetchmail/gofetchmail/fetch"
	"github.com/gofetchmail/gofetchmail/statefile"
)

// checkTarget checks the delivery target a poll of j would use, without
// delivering anything: a maildir by creating and removing a file in its
// tmp/, an mbox by taking and releasing its locks, an MDA by finding its
// program (not running it), an SMTP or LMTP host by EHLO (LHLO) and QUIT,
// a BSMTP file by its directory. A failure has fetchmail's delivery
// status: 10, or 12 for BSMTP.
func checkTarget(ctx context.Context, j fetch.Job, opts fetch.Options) []Line {
	t := fetch.DeliveryTarget(j, opts)
	switch t.Kind {
	case "maildir":
		return []Line{checkMaildir(t.Where[0])}
	case "mbox":
		return []Line{checkMbox(ctx, t.Where[0])}
	case "mda":
		return []Line{checkMDA(t.Where[0])}
	case "bsmtp":
		return []Line{checkBSMTP(t.Where[0])}
	}
	what := strings.ToUpper(t.Kind)
	if t.Kind == "default" {
		what = "SMTP"
	}
	if t.Plugout != "" {
		what += " through plugout " + t.Plugout
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	host, err := fetch.ProbeSMTP(sctx, j, opts)
	if err == nil {
		return []Line{{Step: "delivery", OK: true, Detail: fmt.Sprintf("%s host %s answers (greeting, EHLO or LHLO, QUIT; nothing sent)", what, host)}}
	}
	if t.Kind != "default" {
		return []Line{{Step: "delivery", Detail: fmt.Sprintf("%s to %s: %v", what, strings.Join(t.Where, " "), err),
			Fix: "is the mail server running and listening there? (smtphost HOST/PORT in the rc file; try: nc -v HOST 25)", Status: fetch.StatusSMTP}}
	}
	// fetchmail's default with nothing on port 25: a poll falls back to
	// the local mailbox, as openLocal does.
	note := Line{Step: "delivery", OK: true, Detail: fmt.Sprintf("no delivery configured and no SMTP server answers on localhost (%v): a poll delivers to the local mailbox", err)}
	home := opts.Home
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	if fi, err := os.Stat(filepath.Join(home, "Maildir", "new")); home != "" && err == nil && fi.IsDir() {
		return []Line{note, checkMaildir(filepath.Join(home, "Maildir"))}
	}
	if cu, err := user.Current(); err == nil {
		return []Line{note, checkMbox(ctx, filepath.Join("/var/mail", cu.Username))}
	}
	return []Line{{Step: "delivery", Detail: "no delivery target: no SMTP server answers on localhost and there is no local mailbox",
		Fix: `set maildir "PATH", mbox "PATH", mda "COMMAND" or smtphost HOST in the rc file`, Status: fetch.StatusSMTP}}
}

// checkMaildir creates and removes a file in the maildir's tmp/, as a
// delivery's first step would; a maildir that does not exist yet is
// created by the first poll, so its nearest existing parent is tried.
func checkMaildir(dir string) Line {
	fail := func(detail, fix string) Line {
		return Line{Step: "delivery", Detail: "maildir " + dir + ": " + detail, Fix: fix, Status: fetch.StatusSMTP}
	}
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		parent := filepath.Dir(dir)
		for {
			if _, err := os.Stat(parent); err == nil || parent == filepath.Dir(parent) {
				break
			}
			parent = filepath.Dir(parent)
		}
		if err := tryCreate(parent); err != nil {
			return fail("does not exist, and it cannot be created: "+err.Error(), "create it (mkdir -p "+dir+"/{tmp,new,cur}) as the user who runs gofetchmail")
		}
		return Line{Step: "delivery", OK: true, Detail: "maildir " + dir + " does not exist yet: the first poll creates it (" + parent + " is writable)"}
	}
	if err != nil {
		return fail(err.Error(), "check the path in the maildir line")
	}
	if !fi.IsDir() {
		return fail("not a directory", "point maildir at a directory (with tmp/, new/ and cur/)")
	}
	for _, sub := range []string{"tmp", "new", "cur"} {
		if fi, err := os.Stat(filepath.Join(dir, sub)); err == nil && !fi.IsDir() {
			return fail(sub+"/ is not a directory", "a maildir holds the directories tmp/, new/ and cur/; move the file "+filepath.Join(dir, sub)+" away")
		}
	}
	if err := tryCreate(filepath.Join(dir, "tmp")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fail("cannot write in tmp/: "+err.Error(), "make it writable by the user who runs gofetchmail (ls -ld "+filepath.Join(dir, "tmp")+")")
	} else if err != nil {
		if err := tryCreate(dir); err != nil {
			return fail("cannot create tmp/ in it: "+err.Error(), "make it writable by the user who runs gofetchmail (ls -ld "+dir+")")
		}
	}
	return Line{Step: "delivery", OK: true, Detail: "maildir " + dir + " is writable (a file was created in tmp/ and removed)"}
}

// tryCreate creates a file of a fresh name in dir, exclusively and never
// through a link, and removes it.
func tryCreate(dir string) error {
	var b [8]byte
	rand.Read(b[:])
	name := filepath.Join(dir, ".gofetchmail-doctor-"+hex.EncodeToString(b[:]))
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|statefile.NoFollow, 0o600)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return pe.Err
		}
		return err
	}
	f.Close()
	return os.Remove(name)
}

func checkMbox(ctx context.Context, path string) Line {
	if err := deliver.ProbeMboxLock(ctx, path); err != nil {
		fix := "make the mbox and its directory writable by the user who runs gofetchmail (ls -ld " + filepath.Dir(path) + ")"
		if errors.Is(err, deliver.ErrMboxBusy) {
			fix = "another program holds the mbox; if none runs, remove a stale " + path + ".lock"
		}
		return Line{Step: "delivery", Detail: err.Error(), Fix: fix, Status: fetch.StatusSMTP}
	}
	return Line{Step: "delivery", OK: true, Detail: "mbox " + path + " can be locked (dotlock and fcntl taken and released)"}
}

// checkMDA finds the MDA's program; the command is not run.
func checkMDA(cmd string) Line {
	prog := ""
	for _, w := range strings.Fields(cmd) {
		if strings.Contains(w, "=") && !strings.Contains(w, "/") {
			continue // VAR=value before the program
		}
		prog = strings.Trim(w, `"'`)
		break
	}
	fail := func(detail string) Line {
		return Line{Step: "delivery", Detail: "mda " + cmd + ": " + detail, Fix: "install it or give its full path in the mda line", Status: fetch.StatusSMTP}
	}
	if prog == "" {
		return fail("no program named")
	}
	path, err := exec.LookPath(prog)
	if err != nil {
		return fail(err.Error())
	}
	return Line{Step: "delivery", OK: true, Detail: fmt.Sprintf("mda: %s is executable; a poll runs %s per message (not run by doctor)", path, cmd)}
}

func checkBSMTP(path string) Line {
	if path == "-" {
		return Line{Step: "delivery", OK: true, Detail: "bsmtp to standard output"}
	}
	if err := tryCreate(filepath.Dir(path)); err != nil {
		if fi, serr := os.Stat(path); serr == nil && fi.Mode().IsRegular() {
			if f, oerr := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|statefile.NoFollow, 0); oerr == nil {
				f.Close()
				return Line{Step: "delivery", OK: true, Detail: "bsmtp file " + path + " is writable"}
			}
		}
		return Line{Step: "delivery", Detail: "bsmtp " + path + ": " + err.Error(), Fix: "make its directory writable by the user who runs gofetchmail", Status: fetch.StatusBSMTP}
	}
	return Line{Step: "delivery", OK: true, Detail: "bsmtp file " + path + " can be written"}
}

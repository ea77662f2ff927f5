package statefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// UntrustedError says why a state file is not trusted. Its message names
// the file and the reason; the caller adds what it does about it.
type UntrustedError struct {
	Path string
	Why  string // "it is a symbolic link", "it is owned by uid 65534, not by you (uid 1000)", ...
}

func (e *UntrustedError) Error() string {
	return fmt.Sprintf("%s is not trusted: %s", e.Path, e.Why)
}

// IsUntrusted reports whether err is (or wraps) an *UntrustedError.
func IsUntrusted(err error) bool {
	var u *UntrustedError
	return errors.As(err, &u)
}

// level says how much Check demands.
type level int

const (
	strict level = iota // owner and mode
	owned               // owner only
)

// check tells whether fi, the file at path, is a state file to trust.
func check(path string, fi fs.FileInfo, lv level) error {
	if fi.Mode()&fs.ModeSymlink != 0 {
		return &UntrustedError{Path: path, Why: "it is a symbolic link"}
	}
	if !fi.Mode().IsRegular() {
		return &UntrustedError{Path: path, Why: "it is not a regular file"}
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil // no owner to check on this system
	}
	if euid := os.Geteuid(); int(st.Uid) != euid {
		return &UntrustedError{Path: path, Why: fmt.Sprintf("it is owned by uid %d, not by you (uid %d)", st.Uid, euid)}
	}
	if lv == strict && fi.Mode().Perm()&0o022 != 0 {
		return &UntrustedError{Path: path, Why: fmt.Sprintf("others can write to it (mode %04o)", fi.Mode().Perm())}
	}
	return nil
}

// Check reports whether the file at path (not followed if a symbolic
// link) is a state file to trust; a missing file is an error matching
// fs.ErrNotExist.
func Check(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	return check(path, fi, strict)
}

// Open opens the state file at path for reading and checks it (see the
// package comment). A missing file is an error matching fs.ErrNotExist;
// an untrusted one an *UntrustedError.
func Open(path string) (*os.File, error) { return open(path, strict) }

func open(path string, lv level) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return nil, &UntrustedError{Path: path, Why: "it is a symbolic link"}
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		err = check(path, fi, lv)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ReadFile reads the state file at path after checking it, as Open does.
func ReadFile(path string) ([]byte, error) { return readFile(path, strict) }

// ReadOwnedFile is ReadFile that does not look at the mode: for a file
// whose content the caller checks some other way (the pid file: the
// process it names must be the caller's own program, run by the same
// user), and which other programs write with a lax umask (fetchmail
// creates its pid file 0666 minus the umask).
func ReadOwnedFile(path string) ([]byte, error) { return readFile(path, owned) }

func readFile(path string, lv level) ([]byte, error) {
	f, err := open(path, lv)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// Create creates the state file path, which must not exist (O_EXCL), and
// never through a symbolic link (O_NOFOLLOW).
func Create(path string, perm fs.FileMode) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, perm)
}

// CreateTemp creates a new file of mode 0600 in dir whose name is pattern
// with its last "*" replaced by a random string (os.CreateTemp): a name
// no one can have planted a file or a link at beforehand.
func CreateTemp(dir, pattern string) (*os.File, error) {
	return os.CreateTemp(dir, pattern)
}

// WriteFile replaces path with data durably: data goes to a new file of an
// unpredictable name beside it (CreateTemp), which is fsync'd and renamed
// over path; then the directory is fsync'd. A symbolic link at path is
// replaced, never followed. With empty data, path is removed instead (and
// the directory fsync'd), as fetchmail removes an empty idfile.
func WriteFile(path string, data []byte) error {
	_, err := WriteFileVersion(path, data)
	return err
}

// SyncDir fsyncs the directory dir.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// OpenAppend opens the log file at path for appending, creating it (mode
// 0600) when missing. It never follows a symbolic link at path, and
// refuses a file owned by another user (*UntrustedError), who could read
// what is logged or have pointed the name at a file of the caller's. A
// character device (/dev/null, a terminal) is accepted.
func OpenAppend(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0o600)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return nil, &UntrustedError{Path: path, Why: "it is a symbolic link"}
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && fi.Mode()&fs.ModeCharDevice == 0 {
		err = check(path, fi, owned)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ReadLockFile reads at most max bytes of a lock file another program may
// have made (a mail spool's PATH.lock, owned by whoever delivered last):
// any owner is accepted, but not a symbolic link nor anything but a
// regular file, and the open never blocks (a FIFO planted at the name
// would otherwise hang the run until a writer came).
func ReadLockFile(path string, max int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return nil, &UntrustedError{Path: path, Why: "it is a symbolic link"}
		}
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &UntrustedError{Path: path, Why: "it is not a regular file"}
	}
	return io.ReadAll(io.LimitReader(f, max))
}

// CheckLink tells whether a symbolic link, fi from Lstat of path, may be
// followed to a file the caller writes (a mailbox): only if the caller or
// root made it. Linux's fs.protected_symlinks makes the same rule for
// sticky world-writable directories when it is on; this holds it
// everywhere (a mail spool is group-writable, and the setting may be off).
func CheckLink(path string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || fi.Mode()&fs.ModeSymlink == 0 {
		return nil
	}
	if euid := os.Geteuid(); int(st.Uid) != euid && st.Uid != 0 {
		return &UntrustedError{Path: path, Why: fmt.Sprintf("it is a symbolic link made by uid %d, not by you (uid %d) or root", st.Uid, euid)}
	}
	return nil
}

// NoFollow is the open(2) flag that refuses a symbolic link as the last
// element of a path (O_NOFOLLOW), for callers that open state files
// themselves; IsLinkError tells the error it causes.
const NoFollow = unix.O_NOFOLLOW

// IsLinkError reports whether err is what an open with NoFollow returns
// for a symbolic link.
func IsLinkError(err error) bool { return errors.Is(err, unix.ELOOP) }

package deliver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gofetchmail/gofetchmail/statefile"
)

// errLockBusy is what one locking attempt reports when another holder has it.
var errLockBusy = errors.New("busy")

// retryLock calls try until it succeeds, fails with an error other than
// errLockBusy, ctx ends, or deadline passes. The wait between attempts starts
// at 10ms and doubles up to 1s.
func retryLock(ctx context.Context, deadline time.Time, what string, try func() error) error {
	wait := 10 * time.Millisecond
	for {
		err := try()
		if !errors.Is(err, errLockBusy) {
			return err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("%s: timed out waiting for the lock", what)
		}
		t := time.NewTimer(min(wait, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %w", what, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, time.Second)
	}
}

// dotlock creates name holding this process's pid: written to a file of
// its own first and linked to name (liblockfile's way), so that no lock
// exists, even for an instant, without the pid that tells whether its
// holder still runs. Where the file system has no hard links, name is
// created with O_EXCL and the pid written after. A lock file older than
// stale is removed, as procmail does, and so is one whose pid names no
// running process (its holder was killed: liblockfile's rule); the attempt
// is then repeated.
func dotlock(name string, stale time.Duration) error {
	err := linkLock(name)
	if err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("dotlock: %w", err)
	}
	if err == nil {
		return nil
	}
	fi, serr := os.Stat(name)
	if serr != nil {
		return errLockBusy
	}
	if time.Since(fi.ModTime()) > stale || holderGone(name) {
		// Remove only the lock that was judged: a holder that replaced it
		// in the meantime keeps its own.
		if now, err := os.Stat(name); err == nil && os.SameFile(fi, now) && now.ModTime().Equal(fi.ModTime()) {
			os.Remove(name)
		}
	}
	return errLockBusy
}

// linkLock makes the lock file name, or fails with an error matching
// os.ErrExist when it exists.
func linkLock(name string) error {
	pid := []byte(strconv.Itoa(os.Getpid()) + "\n")
	// The mail spool is shared: the pid goes to a new file of an
	// unpredictable name (never through a link planted at a name a guess
	// could find), which is then linked to name.
	f, err := statefile.CreateTemp(filepath.Dir(name), filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(pid)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	err = os.Link(tmp, name)
	if err == nil || errors.Is(err, os.ErrExist) {
		return err
	}
	// No hard links here (EPERM on some FUSE and FAT file systems).
	f, err = statefile.Create(name, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(pid)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// holderGone reports whether the dotlock name holds the pid of a process
// that no longer exists. A lock without a readable pid, and any lock on a
// network file system (its holder may run on another host, where the pid
// means something else), is left to the stale age.
func holderGone(name string) bool {
	var fs unix.Statfs_t
	if unix.Statfs(name, &fs) != nil || networkFS(int64(fs.Type)) {
		return false
	}
	data, err := statefile.ReadLockFile(name, 64)
	if err != nil {
		return false // not a lock file we can read: left to the stale age
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return false
	}
	return errors.Is(unix.Kill(pid, 0), unix.ESRCH)
}

// networkFS tells the statfs magic numbers of NFS, CIFS and SMB2.
func networkFS(magic int64) bool {
	switch magic {
	case 0x6969, 0xff534d42, 0xfe534d42, 0x517b:
		return true
	}
	return false
}

// fcntlLock takes a whole-file write lock without blocking (F_SETLK).
func fcntlLock(f *os.File) error {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: 0, Len: 0}
	err := unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk)
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES) {
		return errLockBusy
	}
	if errors.Is(err, unix.EINTR) {
		return errLockBusy
	}
	if err != nil {
		return fmt.Errorf("fcntl lock: %w", err)
	}
	return nil
}

// fcntlUnlock releases the lock taken by fcntlLock.
func fcntlUnlock(f *os.File) error {
	lk := unix.Flock_t{Type: unix.F_UNLCK, Whence: 0, Start: 0, Len: 0}
	if err := unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk); err != nil {
		return fmt.Errorf("fcntl unlock: %w", err)
	}
	return nil
}

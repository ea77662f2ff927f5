package deliver

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/gofetchmail/gofetchmail/statefile"
)

// ProbeMboxLock checks, for "gofetchmail doctor", that a delivery to the
// mbox at path could take its locks: the dotlock path.lock (made and
// removed at once) and the fcntl write lock on the file (taken and
// released). Nothing is written to the mbox, and a missing mbox is not
// created: then only the dotlock, which needs the same directory, is
// tried. A lock another program holds is an error wrapping ErrMboxBusy.
func ProbeMboxLock(ctx context.Context, path string) error {
	// A second attempt after a stale lock was removed by the first.
	err := dotlock(path+".lock", staleLockAge)
	if errors.Is(err, errLockBusy) && ctx.Err() == nil {
		err = dotlock(path+".lock", staleLockAge)
	}
	if errors.Is(err, errLockBusy) {
		return fmt.Errorf("mbox %s: %w (%s.lock exists)", path, ErrMboxBusy, path)
	}
	if err != nil {
		return fmt.Errorf("mbox %s: %w", path, err)
	}
	defer os.Remove(path + ".lock")
	f, err := os.OpenFile(path, os.O_RDWR|statefile.NoFollow, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mbox %s: %w", path, err)
	}
	defer f.Close()
	if err := fcntlLock(f); err != nil {
		if errors.Is(err, errLockBusy) {
			return fmt.Errorf("mbox %s: %w (fcntl)", path, ErrMboxBusy)
		}
		return fmt.Errorf("mbox %s: %w", path, err)
	}
	return fcntlUnlock(f)
}

// ErrMboxBusy is what ProbeMboxLock wraps when another program holds a
// lock of the mbox.
var ErrMboxBusy = errors.New("locked by another program")

// staleLockAge is the dotlock age after which the probe, like a delivery,
// takes a lock for abandoned.
const staleLockAge = 5 * time.Minute

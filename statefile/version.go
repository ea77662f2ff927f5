package statefile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// Version identifies a state file as this process last read or wrote it:
// the file (device and inode), its size and its change time. A file
// replaced by a rename (another program's rewrite), grown, cut, or
// written in place since has another Version. The zero Version matches no
// file.
type Version struct {
	dev, ino uint64
	size     int64
	ctime    int64 // ns
	ok       bool
}

// Size is the size of the file the Version describes.
func (v Version) Size() int64 { return v.size }

func versionOf(fi fs.FileInfo) Version {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return Version{} // no identity to compare on this system: never appended to
	}
	return Version{dev: uint64(st.Dev), ino: uint64(st.Ino), size: fi.Size(), ctime: st.Ctim.Nano(), ok: true}
}

// ReadFileVersion is ReadFile that also returns the Version of the file
// it read (of the descriptor it read, so it names what was read even if
// the name is replaced meanwhile).
func ReadFileVersion(path string) ([]byte, Version, error) {
	f, err := open(path, strict)
	if err != nil {
		return nil, Version{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, Version{}, err
	}
	// Sized by the file (an idfile of 100,000 lines is 3 MB), one more
	// byte to see the end.
	var buf bytes.Buffer
	buf.Grow(int(min(fi.Size(), 1<<30)) + 1)
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, Version{}, err
	}
	data := buf.Bytes()
	fi, err = f.Stat()
	if err != nil {
		return nil, Version{}, err
	}
	v := versionOf(fi)
	if v.size != int64(len(data)) {
		v = Version{} // it changed while it was read: never appended to
	}
	return data, v, nil
}

// WriteFileVersion is WriteFile that returns the Version of the file it
// wrote (the zero Version when data was empty and the file removed).
func WriteFileVersion(path string, data []byte) (Version, error) {
	dir := filepath.Dir(path)
	if len(data) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return Version{}, err
		}
		return Version{}, SyncDir(dir)
	}
	f, err := CreateTemp(dir, filepath.Base(path)+"_*")
	if err != nil {
		return Version{}, err
	}
	tmp := f.Name()
	var fi fs.FileInfo
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		// The inode now at path, after the rename changed its ctime.
		fi, err = f.Stat()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return Version{}, err
	}
	return versionOf(fi), SyncDir(dir)
}

// ErrChanged is AppendSync's answer when the file at path is not the one
// of the Version given: the caller rewrites it whole instead.
var ErrChanged = errors.New("the file changed since it was read or written")

// AppendSync appends data to the state file at path durably (write, then
// fsync), but only if the file there is still the one of version, as this
// process last read or wrote it: opened with O_APPEND and O_NOFOLLOW (a
// symbolic link is never followed), it must be a regular file of the
// effective user that nobody else can write (as ReadFile demands), the
// same file (device and inode) of the same size and change time. Otherwise
// nothing is written and the error matches ErrChanged. It returns the
// file's Version after the append. A failed write or fsync may leave part
// of data at the end of the file: the caller must not append to it again
// (it gets no new Version), and rewrites it.
func AppendSync(path string, version Version, data []byte) (Version, error) {
	if !version.ok {
		return Version{}, ErrChanged
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		// A link, nothing, or a FIFO with no reader (ENXIO) where the
		// file was: not the file read; the caller rewrites it whole.
		if errors.Is(err, unix.ELOOP) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENXIO) {
			return Version{}, fmt.Errorf("%w: %v", ErrChanged, err)
		}
		return Version{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Version{}, err
	}
	if err := check(path, fi, strict); err != nil {
		return Version{}, fmt.Errorf("%w: %v", ErrChanged, err)
	}
	if versionOf(fi) != version {
		return Version{}, ErrChanged
	}
	if _, err := f.Write(data); err != nil {
		return Version{}, err
	}
	if err := f.Sync(); err != nil {
		return Version{}, err
	}
	if fi, err = f.Stat(); err != nil {
		return Version{}, err
	}
	return versionOf(fi), nil
}

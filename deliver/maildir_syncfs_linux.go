//go:build linux

package deliver

import (
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// syncfsFS tells the file systems on which one syncfs(2) is known to make
// every file written before it durable, data and metadata, with one journal
// commit and one cache flush: ext2/3/4, XFS and Btrfs. Elsewhere (NFS,
// FUSE, whose syncfs may do nothing, overlayfs, ...) a batch is made
// durable with an fsync per file.
func syncfsFS(magic int64) bool {
	switch magic {
	case 0xEF53, 0x58465342, 0x9123683E: // ext2/3/4, XFS, Btrfs
		return true
	}
	return false
}

// syncfsUsable reports whether a maildir at path makes its batches durable
// with syncfs(2): a file system of syncfsFS on a kernel of 5.8 or later
// (before 5.8 syncfs did not report a writeback error, so a lost write would
// go unnoticed; since then it reports any error of the file system since the
// descriptor it is given was opened).
func syncfsUsable(path string) bool {
	var st unix.Statfs_t
	if unix.Statfs(path, &st) != nil || !syncfsFS(int64(st.Type)) {
		return false
	}
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	return kernelAtLeast(unix.ByteSliceToString(u.Release[:]), 5, 8)
}

// kernelAtLeast reports whether the release string ("6.1.0-18-amd64")
// names a kernel of at least major.minor.
func kernelAtLeast(release string, major, minor int) bool {
	var v [2]int
	for i := range v {
		j := 0
		for j < len(release) && release[j] >= '0' && release[j] <= '9' {
			j++
		}
		n, err := strconv.Atoi(release[:j])
		if err != nil {
			return false
		}
		v[i] = n
		if j < len(release) && release[j] == '.' {
			j++
		}
		release = release[j:]
	}
	return v[0] > major || v[0] == major && v[1] >= minor
}

// syncfs is syncfs(2) on the file system holding f.
func syncfs(f *os.File) error {
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return &os.PathError{Op: "syncfs", Path: f.Name(), Err: err}
	}
	return nil
}

// dirtyLimit is how much dirty or in-flight data of the whole machine
// (/proc/meminfo Dirty + Writeback) a syncfs may meet: a syncfs writes out
// every other writer's data on the file system too, so beyond this a batch
// is made durable with an fsync per file instead.
const dirtyLimit = 32 << 20

// othersDirty returns the machine's dirty and under-writeback bytes, or
// -1 when /proc/meminfo cannot tell.
func othersDirty() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return -1
	}
	var sum int64 = -1
	for _, key := range []string{"Dirty:", "Writeback:"} {
		i := bytes.Index(b, []byte("\n"+key))
		if i < 0 {
			return -1
		}
		f := bytes.Fields(b[i+1+len(key):])
		if len(f) < 1 {
			return -1
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return -1
		}
		if sum < 0 {
			sum = 0
		}
		sum += kb << 10
	}
	return sum
}

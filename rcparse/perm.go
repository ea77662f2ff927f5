package rcparse

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// CheckPermissions applies fetchmail's prc_filecheck to an rc file: it
// must be a regular file, have no group or other access beyond group
// execute (fetchmail tests S_IRGRP|S_IWGRP|S_IROTH|S_IWOTH|S_IXOTH) and
// be owned by the effective user. "-" (standard input), /dev/null and
// missing files pass. Violations give a *PermissionError whose message
// names the absolute path, as fetchmail's does, and whose Fix says what to
// do.
func CheckPermissions(path string) error {
	if path == "-" || path == "/dev/null" {
		return nil
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("rcparse: stat %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return &PermissionError{Path: path, Msg: fmt.Sprintf("File %s must be a regular file.", path)}
	}
	if st.Mode().Perm()&0o067 != 0 {
		return &PermissionError{Path: path, Msg: fmt.Sprintf("File %s must have no more than -rwx------ (0700) permissions.", path),
			Fix: "chmod 600 " + shellQuote(path)}
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Geteuid() {
		return &PermissionError{Path: path, Msg: fmt.Sprintf("File %s must be owned by you.", path)}
	}
	return nil
}

// shellQuote quotes a path for a command line a user copies, unless it
// holds only characters a shell leaves alone.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+,@%:") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

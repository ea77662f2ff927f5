package oauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/gofetchmail/gofetchmail/statefile"
)

// Stored is the content of a token file.
type Stored struct {
	RefreshToken string    `json:"refresh_token"`
	AccessToken  string    `json:"access_token,omitempty"`
	TokenType    string    `json:"token_type,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
}

// ErrNoToken is the cause when an account has no token file yet.
var ErrNoToken = errors.New("no OAuth2 token stored")

// FileError is a token file or directory that cannot be read, trusted or
// written; the poll that meets one ends without logging in.
type FileError struct{ Err error }

func (e *FileError) Error() string { return e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

func fileErr(format string, args ...any) error {
	return &FileError{Err: fmt.Errorf(format, args...)}
}

// maxTokenFile bounds what is read of a token file.
const maxTokenFile = 64 << 10

// Load reads the token file at path. It refuses, with one line naming the
// file, a symlink, a file not owned by the user running the program and a
// file the group or others may read or write. A missing file is ErrNoToken.
func Load(path string) (*Stored, error) {
	f, err := openPrivate(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTokenFile))
	if err != nil {
		return nil, fileErr("token file %s: %w", path, err)
	}
	var st Stored
	if err := json.Unmarshal(data, &st); err != nil || st.RefreshToken == "" {
		return nil, fileErr("token file %s is damaged (no refresh token in it); run gofetchmail oauth2 login again", path)
	}
	return &st, nil
}

// openPrivate opens path for reading with the statefile package (no
// symbolic link followed; the open file, not the name, checked to be a
// regular file owned by the user) and checks further that the group and
// others may neither read nor write it: it holds a password-like secret.
func openPrivate(path string) (*os.File, error) {
	f, err := statefile.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%w in %s", ErrNoToken, path)
	case statefile.IsUntrusted(err):
		return nil, untrusted(path, err)
	case err != nil:
		return nil, fileErr("token file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fileErr("token file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		f.Close()
		return nil, fileErr("token file %s may be read or written by others (mode %04o): refusing it; chmod 600 it if nobody else could have changed it", path, fi.Mode().Perm())
	}
	return f, nil
}

// untrusted words statefile's refusal of the token file at path for the
// user, with what to do about it. The decision is statefile's; Lstat only
// picks the words.
func untrusted(path string, err error) error {
	fi, lerr := os.Lstat(path)
	switch {
	case lerr == nil && fi.Mode()&fs.ModeSymlink != 0:
		return fileErr("token file %s is a symbolic link: refusing it (remove it and run gofetchmail oauth2 login again)", path)
	case lerr == nil && !fi.Mode().IsRegular():
		return fileErr("token file %s is not a regular file: refusing it", path)
	case lerr == nil:
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
			return fileErr("token file %s is not owned by uid %d: refusing it (remove it and run gofetchmail oauth2 login again)", path, os.Geteuid())
		}
	}
	return fileErr("token file %w: refusing it (remove it and run gofetchmail oauth2 login again)", err)
}

// Save writes st to path atomically (writeExclusive: statefile.WriteFile).
// The directory is created (mode 0700) if it is missing.
func Save(path string, st *Stored) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fileErr("token directory: %w", err)
	}
	if err := checkDir(dir); err != nil {
		return err
	}
	if err := writeExclusive(path, append(data, '\n')); err != nil {
		return fileErr("storing the token in %s: %w", path, err)
	}
	return nil
}

// checkDir refuses a token directory (package statefile checks files, not
// directories) that is a symlink, is not owned by
// the user, or that others may write to (they could swap the file).
func checkDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fileErr("token directory: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir():
		return fileErr("token directory %s is not a directory (a symbolic link?): refusing it", dir)
	case !ok || int(st.Uid) != os.Geteuid():
		return fileErr("token directory %s is not owned by uid %d: refusing it", dir, os.Geteuid())
	case fi.Mode().Perm()&0o022 != 0:
		return fileErr("token directory %s may be written by others (mode %04o): refusing it; chmod 700 it", dir, fi.Mode().Perm())
	}
	return nil
}

// writeExclusive is the one place a token file is created: through
// statefile.WriteFile, a new file of mode 0600 created exclusively under
// an unpredictable name beside path (statefile.CreateTemp), fsync'd,
// renamed over path (a symbolic link there is replaced, never followed),
// and the directory fsync'd.
func writeExclusive(path string, data []byte) error { return statefile.WriteFile(path, data) }

// DefaultDir is where token files live: $FETCHMAILHOME/oauth2 when
// FETCHMAILHOME is set, else ~/.gofetchmail-oauth2.
func DefaultDir(home string) string {
	if fh := os.Getenv("FETCHMAILHOME"); fh != "" {
		return filepath.Join(fh, "oauth2")
	}
	return filepath.Join(home, ".gofetchmail-oauth2")
}

// FileName is the token file of an account in dir: "remotename@pollname"
// with every byte outside [A-Za-z0-9@._+-] written as %XX, so no name
// can reach another directory or hide as a dot file.
func FileName(dir, remotename, pollname string) string {
	const ok = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@._+-"
	var b []byte
	for i, c := range []byte(remotename + "@" + pollname) {
		if (i > 0 || c != '.') && containsByte(ok, c) {
			b = append(b, c)
		} else {
			b = append(b, fmt.Sprintf("%%%02X", c)...)
		}
	}
	return filepath.Join(dir, string(b)+".json")
}

func containsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

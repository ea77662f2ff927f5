package oauth

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
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

// openPrivate opens path for reading without following a symlink and
// checks the open file (not the name, which could change between a check
// and the open) is a regular file owned by the user and mode 0600 or less.
func openPrivate(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%w in %s", ErrNoToken, path)
	case errors.Is(err, syscall.ELOOP):
		return nil, fileErr("token file %s is a symbolic link: refusing it (remove it and run gofetchmail oauth2 login again)", path)
	case err != nil:
		return nil, fileErr("token file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fileErr("token file: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.Mode().IsRegular():
		err = fileErr("token file %s is not a regular file: refusing it", path)
	case !ok || int(st.Uid) != os.Geteuid():
		err = fileErr("token file %s is not owned by uid %d: refusing it (remove it and run gofetchmail oauth2 login again)", path, os.Geteuid())
	case fi.Mode().Perm()&0o077 != 0:
		err = fileErr("token file %s may be read or written by others (mode %04o): refusing it; chmod 600 it if nobody else could have changed it", path, fi.Mode().Perm())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Save writes st to path atomically: a new file of mode 0600 created
// exclusively (O_EXCL, O_NOFOLLOW) under an unpredictable name in the
// same directory, fsync'd, renamed over path, and the directory fsync'd.
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

// checkDir refuses a token directory that is a symlink, is not owned by
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

// writeExclusive is the one place a token file is created.
func writeExclusive(path string, data []byte) error {
	var rnd [12]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+"."+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

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

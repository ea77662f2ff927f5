package rcparse

import (
	"os"
	"os/user"
	"strings"
)

// expandTilde expands a leading "~" or "~name" in a path from the rc file,
// as a shell does: "~" and "~/x" are the caller's home directory ($HOME,
// else home), "~name/x" is user name's home directory from the password
// database. ok is false when path does not start with "~"; err is set when
// it names a user that does not exist.
//
// fetchmail 6.4 does not expand "~": it puts the rc file's directory in
// front ("<rcdir>/~/Maildir"), which no fetchmail user means. gofetchmail
// uses the expansion and keeps fetchmail's spelling for --configdump.
func expandTilde(path, home string) (expanded string, ok bool, err error) {
	if !strings.HasPrefix(path, "~") {
		return path, false, nil
	}
	name, rest, _ := strings.Cut(path[1:], "/")
	dir := ""
	if name == "" {
		dir = os.Getenv("HOME")
		if dir == "" {
			dir = home
		}
		if dir == "" {
			u, uerr := user.Current()
			if uerr != nil {
				return path, false, uerr
			}
			dir = u.HomeDir
		}
	} else {
		u, uerr := user.Lookup(name)
		if uerr != nil {
			return path, false, uerr
		}
		dir = u.HomeDir
	}
	if rest == "" && !strings.HasSuffix(path, "/") {
		return dir, true, nil
	}
	return strings.TrimSuffix(dir, "/") + "/" + rest, true, nil
}

// ExpandTilde expands a leading "~" or "~name" of a path given on the
// command line or anywhere else outside the rc file, with the rules of the
// rc file's path options; a path without one is returned unchanged.
func ExpandTilde(path string) (string, error) {
	exp, _, err := expandTilde(path, "")
	if err != nil {
		return path, err
	}
	return exp, nil
}

package secrets

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/gofetchmail/gofetchmail/rcparse"
)

// A .netrc file (ftp(1)'s format) is fetchmail's last source of passwords
// before the prompt. Its reading follows fetchmail 6.4's netrc.c, checked
// against the real fetchmail:
//
//   - tokens are separated by white space; ' and " quote (also within a
//     token: 'foo'"bar" is foobar); # starts a comment where a token would;
//   - machine NAME starts an entry; login (or user), password (or passwd)
//     and account set its fields; macdef skips to the next empty line;
//     other words are warned about and ignored, as are login, password
//     and account before the first machine;
//   - an entry without a login is dropped, and the "default" entry is
//     never used: a password meant for anything is not sent to a mail
//     server.
//
// The lookup takes the first entry whose machine is the poll name and
// whose login is the remote user name (both compared exactly); if it has
// no password, the first such entry for the via name.

// NetrcEntry is one machine entry of a .netrc file.
type NetrcEntry struct {
	Machine  string // "" for the default entry
	Login    string
	Password string
	HasPass  bool // a password token was given (it may be empty)
	Line     int  // where the entry starts
}

// Netrc is a parsed .netrc file.
type Netrc struct {
	Path     string
	Entries  []NetrcEntry // in file order, entries without a login dropped
	Warnings []string     // fetchmail's "FILE:LINE: warning: ..." lines
	Mode     fs.FileMode  // permission bits of the file
}

// ParseNetrc parses the contents of the .netrc file named name.
func ParseNetrc(name string, data []byte) *Netrc {
	n := &Netrc{Path: name}
	const (
		none = iota
		wantLogin
		wantPassword
		wantAccount
		wantMachine
		inMacdef
	)
	state := none
	var cur *NetrcEntry
	finish := func() {
		if cur != nil && cur.Login != "" {
			n.Entries = append(n.Entries, *cur)
		}
		cur = nil
	}
	warn := func(line int, format string, args ...any) {
		n.Warnings = append(n.Warnings, fmt.Sprintf("%s:%d: warning: %s", name, line, fmt.Sprintf(format, args...)))
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for ln := 1; sc.Scan(); ln++ {
		line := strings.TrimRight(sc.Text(), " \t\r\n\v\f")
		if line == "" {
			if state == inMacdef {
				state = none
			}
			continue
		}
		if state == inMacdef {
			continue
		}
		for rest := line; state != inMacdef; {
			tok, more, ok := netrcToken(rest)
			if !ok {
				break
			}
			rest = more
			switch state {
			case wantMachine:
				finish()
				cur = &NetrcEntry{Machine: tok, Line: ln}
			case wantLogin, wantPassword, wantAccount:
				field := map[int]string{wantLogin: "login", wantPassword: "password", wantAccount: "account"}[state]
				switch {
				case cur == nil:
					warn(ln, "found %q before any host names", field)
				case state == wantLogin:
					cur.Login = tok
				case state == wantPassword:
					cur.Password, cur.HasPass = tok, true
				}
			}
			if state != none {
				state = none
				continue
			}
			switch tok {
			case "default":
				finish()
				cur = &NetrcEntry{Line: ln}
			case "machine":
				state = wantMachine
			case "login", "user":
				state = wantLogin
			case "password", "passwd":
				state = wantPassword
			case "account":
				state = wantAccount
			case "macdef":
				state = inMacdef
			default:
				warn(ln, "unknown token %q", tok)
			}
		}
	}
	finish()
	return n
}

// netrcToken returns the first token of s, with quotes removed, and what
// follows it; ok is false when s holds no more tokens (or a comment).
func netrcToken(s string) (tok, rest string, ok bool) {
	s = strings.TrimLeft(s, " \t\r\n\v\f")
	if s == "" || s[0] == '#' {
		return "", "", false
	}
	var b strings.Builder
	var quote byte
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			b.WriteByte(c)
		case c == '"' || c == '\'':
			quote = c
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f':
			return b.String(), s[i+1:], true
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), "", true
}

// LoadNetrc reads and parses the .netrc file at path. A missing file is an
// empty Netrc.
func LoadNetrc(path string) (*Netrc, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Netrc{Path: path}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("netrc: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("netrc: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("netrc: %s is not a regular file", path)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, fmt.Errorf("netrc: %w", err)
	}
	n := ParseNetrc(path, buf.Bytes())
	n.Mode = fi.Mode().Perm()
	return n, nil
}

// Lookup is fetchmail's search_netrc: the first entry for machine host
// whose login is login.
func (n *Netrc) Lookup(host, login string) *NetrcEntry {
	if n == nil {
		return nil
	}
	for i := range n.Entries {
		e := &n.Entries[i]
		if e.Machine != "" && e.Machine == host && e.Login == login {
			return e
		}
	}
	return nil
}

// Password finds the password of a poll entry as fetchmail does: the entry
// for the poll name and the remote user, else the one for the via name.
func (n *Netrc) Password(srv *rcparse.Server, u *rcparse.User) (string, bool) {
	if e := n.Lookup(srv.Pollname, u.Remotename); e != nil && e.HasPass {
		return e.Password, true
	}
	if via := srv.Via; via != nil && *via != "" {
		if e := n.Lookup(*via, u.Remotename); e != nil && e.HasPass {
			return e.Password, true
		}
	}
	return "", false
}

// Loose reports whether group or others may access the file: fetchmail 6.5
// ignores such a .netrc; 6.4 (and gofetchmail, with a warning) uses it.
func (n *Netrc) Loose() bool { return n != nil && n.Mode&0o077 != 0 }

package main

import (
	"fmt"

	"github.com/gofetchmail/gofetchmail/fetch"
	"github.com/gofetchmail/gofetchmail/secrets"
)

// needsPassword reports whether a selected entry has no secret from the rc
// file (password, passwordfile, passwordfd, an OAuth2 token command) and an
// authentication method that needs one; the rc parser has already given a
// password to the methods that need none (ssh, external, gssapi, ...).
func needsPassword(j fetch.Job) bool {
	u := j.User
	return u.Password == nil && u.Passwordfile == nil && u.Passwordfd == nil && u.Tokencommand == nil && !fetch.ManagesOAuth2(u)
}

// askPasswords does what fetchmail does before its first poll (and before
// detaching): it asks on the terminal for every password that neither the
// rc file nor ~/.netrc gives, or, with no terminal to ask on, fails with
// "can't find a password" (status 3) instead of starting polls that cannot
// log in. The engine reads the ~/.netrc passwords itself at each poll. It
// returns the jobs whose password was typed (a daemon hands them to its
// detached child).
func askPasswords(jobs []fetch.Job, netrc *secrets.Netrc, prompt func(string) (string, error)) (asked []fetch.Job, err error) {
	for _, j := range jobs {
		if !needsPassword(j) {
			continue
		}
		if _, ok := netrc.Password(j.Server, j.User); ok {
			continue
		}
		who := j.User.Remotename + "@" + j.Server.Pollname
		if prompt == nil {
			return asked, &fetch.Error{Poll: who, Status: fetch.StatusAuthFail, Err: fmt.Errorf("can't find a password for %s", who)}
		}
		pw, err := prompt(fmt.Sprintf("Enter password for %s: ", who))
		if err != nil {
			return asked, &fetch.Error{Poll: who, Status: fetch.StatusAuthFail, Err: fmt.Errorf("reading the password: %w", err)}
		}
		j.User.Password = &pw
		asked = append(asked, j)
	}
	return asked, nil
}

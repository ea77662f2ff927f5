package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/pflag"
)

// expandAbbrev rewrites long options given as a unique prefix ("--verb")
// to their full names, as getopt_long lets fetchmail users do. A prefix of
// several options that are not aliases of one another is ambiguous; it is
// left alone (and so reported as unknown) with a note like getopt's.
// Arguments after "--" are not options.
func expandAbbrev(fs *pflag.FlagSet, args []string) (out []string, notes []string) {
	out = make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...), notes
		}
		if !strings.HasPrefix(a, "--") {
			out = append(out, a)
			continue
		}
		name, value, hasValue := strings.Cut(a[2:], "=")
		if name == "" || fs.Lookup(name) != nil {
			out = append(out, a)
			continue
		}
		var matches []*pflag.Flag
		fs.VisitAll(func(fl *pflag.Flag) {
			if strings.HasPrefix(fl.Name, name) && !sameTarget(matches, fl) {
				matches = append(matches, fl)
			}
		})
		switch len(matches) {
		case 0:
			out = append(out, a)
		case 1:
			full := "--" + matches[0].Name
			if hasValue {
				full += "=" + value
			}
			out = append(out, full)
		default:
			var names []string
			for _, m := range matches {
				names = append(names, "'--"+m.Name+"'")
			}
			sort.Strings(names)
			notes = append(notes, fmt.Sprintf("option '--%s' is ambiguous; possibilities: %s", name, strings.Join(names, " ")))
			out = append(out, a)
		}
	}
	return out, notes
}

// sameTarget reports whether fl sets the same variable as one of flags
// (an alias such as --proto and --protocol): getopt_long does not count
// those as ambiguous.
func sameTarget(flags []*pflag.Flag, fl *pflag.Flag) bool {
	for _, m := range flags {
		if m.Value == fl.Value {
			return true
		}
	}
	return false
}

// onceString is a string option that may be given only once (fetchmail's
// -S: a second one is a syntax error, exit 5).
type onceString struct {
	p   *string
	set bool
}

func (o *onceString) String() string {
	if o.p == nil {
		return ""
	}
	return *o.p
}

func (o *onceString) Set(s string) error {
	if o.set {
		return fmt.Errorf("may be given only once")
	}
	o.set = true
	*o.p = s
	return nil
}

func (o *onceString) Type() string { return "string" }

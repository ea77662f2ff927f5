package rcparse

import (
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
)

// Options carries what the parse needs to know about the invoking user.
type Options struct {
	User string // login name; default from os/user
	Home string // home directory for the default idfile; default $HOME
	Root bool   // running as uid 0: the postmaster defaults to "postmaster"
	Prog string // program name in messages; default DefaultProg
	// MultiIdle accepts idle on several accounts or folders (gofetchmail's
	// daemon runs one IDLE session for each); false keeps fetchmail's
	// "idle mode does not work for multiple folders or accounts" error.
	MultiIdle bool
}

func (o *Options) fill() {
	if o.User == "" || o.Home == "" {
		u, err := user.Current()
		if o.User == "" {
			if err == nil {
				o.User = u.Username
			} else {
				o.User = os.Getenv("USER")
			}
		}
		if o.Home == "" {
			o.Home = os.Getenv("HOME")
			if o.Home == "" && err == nil {
				o.Home = u.HomeDir
			}
		}
	}
	if o.Prog == "" {
		o.Prog = DefaultProg
	}
}

// ParseFile reads and parses the rc file at path ("-" reads standard
// input). It does not check permissions; see CheckPermissions.
func ParseFile(path string, opts Options) (*Config, []Warning, error) {
	var src []byte
	var err error
	if path == "-" {
		src, err = io.ReadAll(os.Stdin)
	} else {
		src, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("rcparse: read %s: %w", path, err)
	}
	return Parse(path, src, opts)
}

// Parse parses rc file text. filename names the file in messages and
// locates relative paths; like fetchmail, a relative name is taken
// relative to the current directory.
func Parse(filename string, src []byte, opts Options) (cfg *Config, warns []Warning, err error) {
	opts.fill()
	abs := filename
	if abs != "-" && !strings.HasPrefix(abs, "/") {
		if wd, werr := os.Getwd(); werr == nil {
			abs = prependdir(abs, wd)
		}
	}
	rcdir := ""
	if i := strings.LastIndexByte(abs, '/'); i >= 0 {
		rcdir = abs[:i]
		if rcdir == "" {
			rcdir = "/"
		}
	}
	p := &parser{lx: newLexer(src), file: abs, prog: opts.Prog, rcdir: rcdir, home: opts.Home}
	if perr := p.parse(); perr != nil {
		return nil, nil, perr
	}
	cfg, warns, err = p.postParse(opts)
	if cfg != nil {
		cfg.File = filename
	}
	return cfg, warns, err
}

// parse runs the grammar; it returns the accumulated *SyntaxError, if any.
func (p *parser) parse() (err error) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(bail); !ok {
				panic(r)
			}
			err = p.fatal
		}
	}()
	p.parseAll()
	if len(p.errs) > 0 {
		return chain(p.errs)
	}
	return nil
}

package rcparse

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// checkInterface validates an "interface" value like fetchmail's
// interface_parse ("if/ip[/mask]", parsed with inet_aton); it returns
// fetchmail's message for an invalid value, or "".
func checkInterface(v string) string {
	i := strings.IndexByte(v, '/')
	if i < 0 {
		return "missing IP interface address"
	}
	rest := v[i+1:]
	addr, mask := rest, "255.255.255.255"
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		addr, mask = rest[:j], rest[j+1:]
	}
	if !inetAton(addr) {
		return "invalid IP interface address"
	}
	if !inetAton(mask) {
		return "invalid IP interface mask"
	}
	return ""
}

// inetAton reports whether glibc's inet_aton accepts s: one to four parts
// in C notation (0x hex, 0 octal, decimal), the last part filling the
// remaining bytes, optionally followed by white space and anything.
func inetAton(s string) bool {
	var parts []uint64
	i := 0
	for {
		if i >= len(s) || !isDigit(s[i]) {
			return false
		}
		base := uint64(10)
		if s[i] == '0' {
			base = 8
			i++
			if i < len(s) && (s[i] == 'x' || s[i] == 'X') {
				base = 16
				i++
			}
		}
		var val uint64
		for i < len(s) {
			c := s[i]
			d := uint64(99)
			switch {
			case isDigit(c):
				d = uint64(c - '0')
			case base == 16 && hexVal(c) >= 0:
				d = uint64(hexVal(c))
			}
			if d >= base {
				break
			}
			val = val*base + d
			if val > 0xffffffff {
				return false
			}
			i++
		}
		if i < len(s) && s[i] == '.' {
			if len(parts) >= 3 || val > 0xff {
				return false
			}
			parts = append(parts, val)
			i++
			continue
		}
		if i < len(s) && !isSpace(s[i]) {
			return false
		}
		max := []uint64{0xffffffff, 0xffffff, 0xffff, 0xff}[len(parts)]
		return val <= max
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}

// servicesFile is where service names are looked up (getaddrinfo uses
// /etc/services through NSS "files").
var servicesFile = "/etc/services"

// lookupService finds a TCP service name or alias in /etc/services.
func lookupService(name string) (int, bool) {
	f, err := os.Open(servicesFile)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		port, proto, ok := strings.Cut(fields[1], "/")
		if !ok || proto != "tcp" {
			continue
		}
		for k, n := range fields {
			if k == 1 || n != name {
				continue
			}
			if v, err := strconv.Atoi(port); err == nil {
				return v, true
			}
		}
	}
	return 0, false
}

// servport resolves a service like fetchmail's servport(): a decimal number
// (strtoul, surrounding white space allowed) in 1..65535, or a TCP service
// name. It returns -1 and fetchmail's messages when that fails.
func servport(service string) (int, []string) {
	s := strings.TrimLeft(service, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	j := 0
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	digits, rest := s[:j], s[j:]
	numeric := j > 0 && strings.TrimLeft(rest, " \t\n\v\f\r") == ""
	if j == 0 { // strtoul consumed nothing: end == start of string
		numeric = strings.TrimLeft(service, " \t\n\v\f\r") == "" // "" or blanks: u = 0
		if !numeric {
			rest = service
		}
	}
	fail := []string{"Cannot resolve service " + service + " to port number.",
		"Please specify the service as decimal port number."}
	if numeric && j > 0 {
		u, err := strconv.ParseUint(digits, 10, 64)
		if err != nil { // ERANGE: glibc's getaddrinfo takes it as numeric, 16 bits
			if rest == "" {
				return 65535, nil
			}
			return -1, append([]string{`getaddrinfo(NULL, "` + service + `") error: Servname not supported for ai_socktype`}, fail...)
		}
		if neg {
			u = -u
		}
		if u == 0 || u > 65535 {
			return -1, fail
		}
		return int(u), nil
	}
	if numeric { // empty or blank
		return -1, fail
	}
	if service == "kpop" {
		return 1109, nil
	}
	if port, ok := lookupService(service); ok {
		return port, nil
	}
	return -1, append([]string{`getaddrinfo(NULL, "` + service + `") error: Servname not supported for ai_socktype`}, fail...)
}

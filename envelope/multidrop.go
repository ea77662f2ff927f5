package envelope

import (
	"context"
	"net/mail"
	"regexp"
	"strings"

	"github.com/gofetchmail/gofetchmail/rcparse"
)

// Multidrop: one server mailbox collects mail for several local users. As
// fetchmail does, the engine reads the envelope header (default: the "for
// <addr>" clause of a Received line; or a header such as X-Original-To),
// else the To, Cc and Bcc addresses, keeps the addresses whose domain is
// local (no domain, the server's names, aka, localdomains), strips the
// qvirtual prefix, and maps each user part through the entry's local
// names: a "remote=local" mapping, a plain local name, or, with "*", the
// user part itself. With no match the message goes to the postmaster.

// IsMultidrop reports whether a user entry is multidrop: several local
// names, or the wildcard.
func IsMultidrop(u *rcparse.User) bool {
	n := 0
	for _, ln := range u.Localnames {
		if ln.Wildcard {
			return true
		}
		n++
	}
	return n > 1
}

var receivedFor = regexp.MustCompile(`(?i)\bfor\s+<?([^\s<>;]+@[^\s<>;]+|[^\s<>;@]+)>?\s*;?`)

// envelopeAddrs returns the envelope recipient addresses the envelope
// header names, honouring envskip; nil when there is none.
func envelopeAddrs(s *rcparse.Server, fields []string) []string {
	if s.Envelope == nil || *s.Envelope == "" {
		return nil
	}
	name := strings.ToLower(*s.Envelope)
	skip := s.Envskip
	for _, f := range fields {
		k, v, ok := strings.Cut(f, ":")
		if !ok || strings.ToLower(strings.TrimSpace(k)) != name {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if name == "received" {
			m := receivedFor.FindStringSubmatch(v)
			if m == nil {
				return nil
			}
			return []string{m[1]}
		}
		return addrList(v)
	}
	return nil
}

// addrList parses an address list, tolerating the bare names mail
// headers often carry.
func addrList(v string) []string {
	if list, err := mail.ParseAddressList(strings.TrimSpace(v)); err == nil {
		out := make([]string, len(list))
		for i, a := range list {
			out[i] = a.Address
		}
		return out
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		if i := strings.LastIndexByte(p, '<'); i >= 0 {
			p = strings.TrimSuffix(p[i+1:], ">")
		}
		if p != "" && !strings.ContainsAny(p, " \t") {
			out = append(out, p)
		}
	}
	return out
}

// localPart returns the user part of addr if its domain is local to the
// entry, and whether it is.
func localPart(j Entry, addr string) (string, bool) {
	user, domain := addr, ""
	i := strings.LastIndexByte(addr, '@')
	hasDomain := i >= 0
	if hasDomain {
		user, domain = addr[:i], addr[i+1:]
	}
	if user == "" {
		return "", false
	}
	if hasDomain {
		d := strings.ToLower(strings.TrimSuffix(domain, "."))
		local := strings.EqualFold(d, j.Server.Pollname) || strings.EqualFold(d, serverName(j.Server))
		for _, a := range j.Server.Aka {
			a = strings.ToLower(a)
			local = local || d == a || strings.HasSuffix(d, "."+a)
		}
		for _, ld := range j.Server.Localdomains {
			ld = strings.ToLower(ld)
			local = local || d == ld || strings.HasSuffix(d, "."+ld)
		}
		if !local {
			return "", false
		}
	}
	return stripQvirtual(j, user), true
}

// stripQvirtual removes the entry's qvirtual prefix from a user part.
func stripQvirtual(j Entry, user string) string {
	if q := j.Server.Qvirtual; q != nil && *q != "" {
		user = strings.TrimPrefix(user, *q)
	}
	return user
}

// mapLocal maps a remote user part to a local name through the entry's
// local names; ok is false when nothing matches. The wildcard maps only a
// user part wildcardLocalOK accepts; refused says one was turned away.
func mapLocal(u *rcparse.User, user string) (local string, ok, refused bool) {
	wild := false
	for _, ln := range u.Localnames {
		switch {
		case ln.Wildcard:
			wild = true
		case ln.Pair || ln.Remote != "":
			if strings.EqualFold(ln.Remote, user) {
				return ln.Local, true, false
			}
		case strings.EqualFold(ln.Local, user):
			return ln.Local, true, false
		}
	}
	if wild {
		if !wildcardLocalOK(user) {
			return "", false, true
		}
		return user, true, false
	}
	return "", false, false
}

// Entry is the rc file's view of the poll entry a message comes from.
type Entry struct {
	Config *rcparse.Config // for the postmaster; may be nil
	Server *rcparse.Server
	User   *rcparse.User
}

// serverName is the name fetchmail contacts: via, else the poll name.
func serverName(s *rcparse.Server) string {
	if s.Via != nil && *s.Via != "" {
		return *s.Via
	}
	return s.Pollname
}

// Recipients returns the local recipients of a message of a
// multidrop entry from its header fields (unfolded), or the postmaster,
// recognising the server's names without asking the DNS.
func Recipients(j Entry, fields []string) []string {
	out, _, _ := Resolve(context.Background(), j, fields, nil)
	return out
}

// maxAliasLookups bounds the distinct domains the dns option looks up for
// one message. The sender writes the addresses: a To of 10,000 made-up
// domains would otherwise cost 30,000 queries (address, CNAME, MX) per
// message and poll, and one domain whose name servers time out keeps the
// message on the server. A domain past the bound is not the server's; a
// real alias among so many addresses needs aka or localdomains.
const maxAliasLookups = 16

// Resolve maps a message's addresses to local recipients;
// isAlias, when not nil, decides about domains the configured names do not
// match. refused lists the local user parts the wildcard would not take.
func Resolve(ctx context.Context, j Entry, fields []string, isAlias func(context.Context, string) (bool, error)) (out, refused []string, err error) {
	addrs := envelopeAddrs(j.Server, fields)
	if addrs == nil {
		for _, f := range fields {
			k, v, ok := strings.Cut(f, ":")
			if !ok {
				continue
			}
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc":
				addrs = append(addrs, addrList(v)...)
			}
		}
	}
	seen := map[string]bool{}
	asked := map[string]bool{} // domains looked up for this message
	for _, a := range addrs {
		user, ok := localPart(j, a)
		if i := strings.LastIndexByte(a, '@'); !ok && isAlias != nil && i > 0 {
			d := strings.ToLower(a[i+1:])
			if !asked[d] && len(asked) >= maxAliasLookups {
				continue
			}
			asked[d] = true
			alias, err := isAlias(ctx, a[i+1:])
			if err != nil {
				return nil, nil, err
			}
			user, ok = stripQvirtual(j, a[:i]), alias
		}
		if !ok {
			continue
		}
		local, ok, bad := mapLocal(j.User, user)
		if bad {
			refused = append(refused, user)
		}
		if ok && !seen[local] {
			seen[local] = true
			out = append(out, local)
		}
	}
	if len(out) == 0 && j.Config != nil && j.Config.Postmaster != "" {
		out = []string{j.Config.Postmaster}
	}
	return out, refused, nil
}

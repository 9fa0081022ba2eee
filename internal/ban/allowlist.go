package ban

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// AllowList is a set of address prefixes that are never banned and never
// connection-rate limited. The zero value allows nothing.
type AllowList struct {
	prefixes []netip.Prefix
}

// ParseAllowList parses entries that are CIDR prefixes ("10.0.0.0/8",
// "fd00::/8") or single addresses ("192.0.2.7" is 192.0.2.7/32). IPv4
// addresses written as IPv4-mapped IPv6 ("::ffff:192.0.2.7") are treated as
// IPv4. Every bad entry is reported, each naming its index.
func ParseAllowList(entries []string) (AllowList, error) {
	var errs []error
	out := AllowList{prefixes: make([]netip.Prefix, 0, len(entries))}
	for i, e := range entries {
		p, err := parseEntry(e)
		if err != nil {
			errs = append(errs, fmt.Errorf("[%d]: %w", i, err))
			continue
		}
		out.prefixes = append(out.prefixes, p)
	}
	if len(errs) > 0 {
		return AllowList{}, errors.Join(errs...)
	}
	return out, nil
}

func parseEntry(e string) (netip.Prefix, error) {
	s := strings.TrimSpace(e)
	if s == "" {
		return netip.Prefix{}, errors.New("empty entry")
	}
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR prefix", e)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR prefix", e)
	}
	a := p.Addr()
	if a.Is4In6() {
		bits := p.Bits() - 96
		if bits < 0 {
			return netip.Prefix{}, fmt.Errorf("%q: an IPv4-mapped prefix needs at least /96", e)
		}
		p = netip.PrefixFrom(a.Unmap(), bits)
	}
	return p.Masked(), nil
}

// Contains reports whether ip is in one of the prefixes.
func (l AllowList) Contains(ip netip.Addr) bool {
	ip = canonical(ip)
	for _, p := range l.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Len is the number of prefixes.
func (l AllowList) Len() int { return len(l.prefixes) }

// String lists the prefixes, comma separated.
func (l AllowList) String() string {
	s := make([]string, len(l.prefixes))
	for i, p := range l.prefixes {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

// canonical is ip without IPv4-in-IPv6 mapping and without zone, the form
// bans and limits are keyed by.
func canonical(ip netip.Addr) netip.Addr { return ip.Unmap().WithZone("") }

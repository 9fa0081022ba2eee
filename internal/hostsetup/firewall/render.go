package firewall

import (
	"bytes"
	"fmt"
	"net"
	"regexp"
	"strings"
)

// Backends the ruleset can be rendered for.
const (
	BackendNFT = "nftables"
	BackendUFW = "ufw"
)

// Render renders rules for backend.
func Render(backend string, rules []Rule) ([]byte, error) {
	switch backend {
	case BackendNFT:
		return RenderNFT(rules), nil
	case BackendUFW:
		return RenderUFW(rules), nil
	}
	return nil, fmt.Errorf("firewall backend %q is not %s or %s", backend, BackendNFT, BackendUFW)
}

// RenderNFT is an `nft -f` file. It owns the table `inet borda` only:
// loading it again replaces that table and nothing else. Its input chain
// drops what it does not accept, like ufw's default deny incoming; since a
// packet must pass every base chain of the hook, other tables cannot open
// a port this one closes.
func RenderNFT(rules []Rule) []byte {
	var b bytes.Buffer
	b.WriteString(`#!/usr/sbin/nft -f
# Written by ` + "`borda host firewall`" + `: the ports borda listens on, plus ssh.
# Load with: nft -f THIS_FILE (replaces table inet borda only).
table inet borda
delete table inet borda
table inet borda {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		ct state invalid drop
		iif "lo" accept
		meta l4proto icmp accept
		meta l4proto ipv6-icmp accept
`)
	for _, r := range rules {
		fmt.Fprintf(&b, "\t\t%s%s dport %d accept comment %q\n", nftAddr(r.Address), r.Proto, r.Port, comment(r.Name))
	}
	b.WriteString("\t}\n}\n")
	return b.Bytes()
}

func nftAddr(addr string) string {
	ip := net.ParseIP(addr)
	switch {
	case ip == nil:
		return ""
	case ip.To4() != nil:
		return "ip daddr " + addr + " "
	}
	return "ip6 daddr " + addr + " "
}

// comment keeps a rule's comment printable and short (nft allows 128 bytes).
func comment(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r > '~' || r == '"' || r == '\'' || r == '\\' {
			return '_'
		}
		return r
	}, s)
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}

// RenderUFW is a shell script of ufw commands: deny incoming by default,
// allow each rule, enable.
func RenderUFW(rules []Rule) []byte {
	var b bytes.Buffer
	b.WriteString("#!/bin/sh\n# Written by `borda host firewall`: the ports borda listens on, plus ssh.\nset -e\n")
	b.WriteString("ufw default deny incoming\nufw default allow outgoing\n")
	for _, r := range UFWArgs(rules) {
		fmt.Fprintf(&b, "ufw %s\n", strings.Join(quoteAll(r), " "))
	}
	b.WriteString("ufw --force enable\n")
	return b.Bytes()
}

// UFWArgs are the arguments of one `ufw allow` per rule.
func UFWArgs(rules []Rule) [][]string {
	var out [][]string
	for _, r := range rules {
		args := []string{"allow"}
		if r.Address != "" {
			args = append(args, "proto", r.Proto, "to", r.Address, "port", fmt.Sprint(r.Port))
		} else {
			args = append(args, fmt.Sprintf("%d/%s", r.Port, r.Proto))
		}
		out = append(out, append(args, "comment", comment(r.Name)))
	}
	return out
}

// quoteAll single-quotes every argument with a character a shell would
// interpret (comment() leaves no single quote to escape).
func quoteAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if !shellSafe.MatchString(a) {
			a = "'" + a + "'"
		}
		out[i] = a
	}
	return out
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:@%+=,-]+$`)

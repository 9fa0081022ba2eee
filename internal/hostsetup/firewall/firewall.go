// Package firewall renders the host firewall for borda: exactly the ports
// borda is configured to listen on, plus ssh, as an nftables ruleset (a
// table of its own) or as ufw commands, and applies it on request.
package firewall

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// Config is the host.firewall section of borda.yaml.
type Config struct {
	// SSHPort is opened for remote administration (default 22; 0 leaves
	// ssh closed).
	SSHPort int `yaml:"ssh_port"`
	// Allow opens more ports, as "PORT" or "PORT/tcp" or "PORT/udp"
	// (e.g. "3000/tcp" for a Grafana next to borda).
	Allow []string `yaml:"allow"`
}

// DefaultConfig opens ssh on 22 and nothing else beyond borda's listeners.
func DefaultConfig() Config { return Config{SSHPort: 22} }

// Validate reports every problem.
func (c Config) Validate() error {
	var errs []error
	if c.SSHPort < 0 || c.SSHPort > 65535 {
		errs = append(errs, fmt.Errorf("firewall.ssh_port: %d is not a valid port", c.SSHPort))
	}
	for i, a := range c.Allow {
		if _, err := parseAllow(a); err != nil {
			errs = append(errs, fmt.Errorf("firewall.allow[%d]: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

// Listener is one address borda listens on, as configured.
type Listener struct {
	Name    string // what it is, e.g. "broker mqtt" (becomes the rule's comment)
	Address string // interface address; "" means all
	Port    int
	Proto   string // tcp or udp
}

// Rule is one opened port.
type Rule struct {
	Name    string
	Address string // destination address; "" means any
	Port    int
	Proto   string
}

// Rules lists the rules for c and the listeners: ssh first, then the
// listeners in order, then c.Allow. A listener on a loopback address needs
// no rule and is left out (with a note); duplicates are merged.
func Rules(c Config, listeners []Listener) (rules []Rule, notes []string, err error) {
	if err := c.Validate(); err != nil {
		return nil, nil, err
	}
	add := func(r Rule) {
		if !slices.ContainsFunc(rules, func(o Rule) bool { return o.Port == r.Port && o.Proto == r.Proto && o.Address == r.Address }) {
			rules = append(rules, r)
		}
	}
	if c.SSHPort > 0 {
		add(Rule{Name: "ssh", Port: c.SSHPort, Proto: "tcp"})
	}
	for _, l := range listeners {
		r, note, err := listenerRule(l)
		if err != nil {
			return nil, nil, err
		}
		if note != "" {
			notes = append(notes, note)
			continue
		}
		add(r)
	}
	for _, a := range c.Allow {
		r, _ := parseAllow(a)
		add(r)
	}
	return rules, notes, nil
}

func listenerRule(l Listener) (Rule, string, error) {
	proto := l.Proto
	if proto == "" {
		proto = "tcp"
	}
	if l.Port <= 0 || l.Port > 65535 {
		return Rule{}, "", fmt.Errorf("%s: port %d cannot be opened (0 picks a random port)", l.Name, l.Port)
	}
	if proto != "tcp" && proto != "udp" {
		return Rule{}, "", fmt.Errorf("%s: protocol %q is not tcp or udp", l.Name, proto)
	}
	addr := l.Address
	if addr == "0.0.0.0" || addr == "::" {
		addr = ""
	}
	if ip := net.ParseIP(addr); ip != nil && ip.IsLoopback() {
		return Rule{}, fmt.Sprintf("%s listens on loopback %s:%d: no rule needed", l.Name, addr, l.Port), nil
	}
	if addr != "" && net.ParseIP(addr) == nil {
		// A host name: the rule cannot name an address, open the port.
		return Rule{Name: l.Name, Port: l.Port, Proto: proto}, "", nil
	}
	return Rule{Name: l.Name, Address: addr, Port: l.Port, Proto: proto}, "", nil
}

// parseAllow reads "PORT" or "PORT/PROTO".
func parseAllow(s string) (Rule, error) {
	p, proto, ok := strings.Cut(s, "/")
	if !ok {
		proto = "tcp"
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return Rule{}, fmt.Errorf("%q: want PORT or PORT/tcp or PORT/udp with PORT 1..65535", s)
	}
	if proto != "tcp" && proto != "udp" {
		return Rule{}, fmt.Errorf("%q: protocol %q is not tcp or udp", s, proto)
	}
	return Rule{Name: "allow " + s, Port: n, Proto: proto}, nil
}

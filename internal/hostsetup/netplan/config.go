// Package netplan renders the netplan (v2) configuration of a gateway with
// an Ethernet uplink and a cellular modem as backup, like the seed's
// /etc/netplan file: Ethernet preferred by route metric, the modem (driven
// by ModemManager through NetworkManager) carrying the default route only
// when Ethernet is gone.
package netplan

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// Defaults.
const (
	DefaultEthernetInterface = "eth0"
	DefaultEthernetMetric    = 100
	DefaultModemInterface    = "cdc-wdm0"
	DefaultModemMetric       = 700
	maxMetric                = math.MaxInt32
	maxInterfaceLen          = 15 // IFNAMSIZ - 1
	maxAPNLen                = 100
)

// Config describes the host's network: one Ethernet interface and an
// optional cellular modem.
type Config struct {
	Ethernet EthernetConfig `yaml:"ethernet"`
	// Modem is the backup uplink; nil: no modem section is rendered.
	Modem *ModemConfig `yaml:"modem"`
}

// EthernetConfig is the primary (preferred) uplink.
type EthernetConfig struct {
	// Interface is the device name (default eth0).
	Interface string `yaml:"interface"`
	// DHCP4 gets the address by DHCP (default true).
	DHCP4 bool `yaml:"dhcp4"`
	// Addresses are static addresses in CIDR form (192.168.1.10/24);
	// required when dhcp4 is false.
	Addresses []string `yaml:"addresses"`
	// Gateway4 is the static default gateway (needs addresses).
	Gateway4 string `yaml:"gateway4"`
	// Nameservers are DNS server addresses.
	Nameservers []string `yaml:"nameservers"`
	// RouteMetric of the default route through Ethernet (default 100);
	// lower than the modem's so Ethernet is preferred.
	RouteMetric int `yaml:"route_metric"`
}

// ModemConfig is the cellular backup uplink, rendered into netplan's
// modems: section (NetworkManager + ModemManager).
type ModemConfig struct {
	// Interface is the modem's control device as ModemManager names it
	// (default cdc-wdm0), not the data device (wwan0).
	Interface string `yaml:"interface"`
	// APN of the operator (required).
	APN string `yaml:"apn"`
	// Username for the APN, if the operator wants one.
	Username string `yaml:"username"`
	// PasswordFile holds the APN password (one line); read at render time,
	// so the password itself is never in borda's configuration.
	PasswordFile string `yaml:"password_file"`
	// PINFile holds the SIM PIN (one line), optional.
	PINFile string `yaml:"pin_file"`
	// Number to dial, optional (e.g. "*99#").
	Number string `yaml:"number"`
	// RouteMetric of the default route through the modem (default 700);
	// must be greater than ethernet.route_metric.
	RouteMetric int `yaml:"route_metric"`
}

// DefaultConfig is Ethernet on eth0 by DHCP, metric 100, no modem.
func DefaultConfig() Config {
	return Config{Ethernet: EthernetConfig{
		Interface:   DefaultEthernetInterface,
		DHCP4:       true,
		RouteMetric: DefaultEthernetMetric,
	}}
}

// Decode reads a Config from YAML strictly (unknown keys are errors),
// starting from DefaultConfig. An empty document yields the defaults.
func Decode(r io.Reader) (Config, error) {
	cfg := DefaultConfig()
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, err
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Config{}, errors.New("more than one YAML document")
	}
	return cfg, nil
}

// ResolvePaths makes relative secret file paths relative to dir (the
// directory of the file the config was read from).
func (c *Config) ResolvePaths(dir string) {
	if c.Modem == nil {
		return
	}
	for _, p := range []*string{&c.Modem.PasswordFile, &c.Modem.PINFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

// normalized fills the defaults that a zero value cannot mean otherwise:
// empty interfaces and a modem metric of 0 (never valid, since it must be
// greater than Ethernet's).
func (c Config) normalized() Config {
	if c.Ethernet.Interface == "" {
		c.Ethernet.Interface = DefaultEthernetInterface
	}
	if c.Modem != nil {
		m := *c.Modem
		if m.Interface == "" {
			m.Interface = DefaultModemInterface
		}
		if m.RouteMetric == 0 {
			m.RouteMetric = DefaultModemMetric
		}
		c.Modem = &m
	}
	return c
}

// Validate reports every problem, each naming its yaml key. It does not
// read the secret files (Render does).
func (c Config) Validate() error {
	c = c.normalized()
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	e := c.Ethernet
	if err := checkInterface(e.Interface); err != nil {
		add("ethernet.interface: %v", err)
	}
	if !e.DHCP4 && len(e.Addresses) == 0 {
		add("ethernet.addresses: required when ethernet.dhcp4 is false")
	}
	var v4 bool
	for i, a := range e.Addresses {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			add("ethernet.addresses[%d]: %q is not an address in CIDR form (192.168.1.10/24)", i, a)
			continue
		}
		v4 = v4 || p.Addr().Is4()
	}
	if e.Gateway4 != "" {
		if a, err := netip.ParseAddr(e.Gateway4); err != nil || !a.Is4() {
			add("ethernet.gateway4: %q is not an IPv4 address", e.Gateway4)
		} else if !v4 {
			add("ethernet.gateway4: needs an IPv4 address in ethernet.addresses")
		}
	}
	for i, ns := range e.Nameservers {
		if _, err := netip.ParseAddr(ns); err != nil {
			add("ethernet.nameservers[%d]: %q is not an IP address", i, ns)
		}
	}
	if err := checkMetric(e.RouteMetric); err != nil {
		add("ethernet.route_metric: %v", err)
	}

	if m := c.Modem; m != nil {
		if err := checkInterface(m.Interface); err != nil {
			add("modem.interface: %v", err)
		} else if m.Interface == e.Interface {
			add("modem.interface: %q is also ethernet.interface", m.Interface)
		}
		if m.APN == "" {
			add("modem.apn: required")
		} else if err := checkAPN(m.APN); err != nil {
			add("modem.apn: %v", err)
		}
		if strings.ContainsFunc(m.Username, isControl) {
			add("modem.username: contains control characters")
		}
		if m.Number != "" && strings.Trim(m.Number, "0123456789*#+") != "" {
			add("modem.number: %q: only digits, '*', '#' and '+'", m.Number)
		}
		if err := checkMetric(m.RouteMetric); err != nil {
			add("modem.route_metric: %v", err)
		} else if checkMetric(e.RouteMetric) == nil && m.RouteMetric <= e.RouteMetric {
			add("modem.route_metric: %d must be greater than ethernet.route_metric (%d) so Ethernet is preferred",
				m.RouteMetric, e.RouteMetric)
		}
		if m.PasswordFile != "" && m.Username == "" {
			add("modem.password_file: set without modem.username")
		}
	}
	return errors.Join(errs...)
}

func checkInterface(name string) error {
	switch {
	case name == "":
		return errors.New("empty")
	case len(name) > maxInterfaceLen:
		return fmt.Errorf("%q is longer than %d characters", name, maxInterfaceLen)
	case name == "." || name == "..":
		return fmt.Errorf("%q is not a valid name", name)
	case strings.ContainsFunc(name, func(r rune) bool {
		return r == '/' || r == ':' || r <= ' ' || r == 0x7f || r > 0x7e
	}):
		return fmt.Errorf("%q: no '/', ':', whitespace or non-ASCII characters", name)
	}
	return nil
}

// checkAPN: labels of letters, digits, '-' (3GPP TS 23.003) and, tolerated
// because operators use it, '_', separated by dots; at most 100 characters.
func checkAPN(apn string) error {
	if len(apn) > maxAPNLen {
		return fmt.Errorf("%q is longer than %d characters", apn, maxAPNLen)
	}
	for _, l := range strings.Split(apn, ".") {
		if l == "" {
			return fmt.Errorf("%q: empty label", apn)
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("%q: a label starts or ends with '-'", apn)
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return fmt.Errorf("%q: only letters, digits, '-', '_' and '.'", apn)
			}
		}
	}
	return nil
}

func checkMetric(m int) error {
	if m < 0 || m > maxMetric {
		return fmt.Errorf("%d is outside 0..%d", m, maxMetric)
	}
	return nil
}

func isControl(r rune) bool { return r < ' ' || r == 0x7f }

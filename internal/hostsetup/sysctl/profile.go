// Package sysctl is borda's kernel tuning profile for edge hosts: the
// seed's low-latency settings as defaults, a check of the running kernel
// against them, and an apply that records every previous value so that
// revert restores the host exactly.
package sysctl

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// Entry is one kernel setting: a dotted key (net.core.rmem_max) and the
// value wanted for it, fields separated by single spaces.
type Entry struct {
	Key   string
	Value string
}

// Profile is an ordered list of settings, each key at most once.
type Profile []Entry

// DefaultProfile is the seed's /etc/sysctl.d/99-edge-performance.conf.
func DefaultProfile() Profile {
	return Profile{
		{"net.core.rmem_default", "262144"},
		{"net.core.rmem_max", "16777216"},
		{"net.core.wmem_default", "262144"},
		{"net.core.wmem_max", "16777216"},
		{"net.core.netdev_max_backlog", "5000"},
		{"net.ipv4.tcp_congestion_control", "bbr"},
		{"net.ipv4.tcp_rmem", "4096 65536 16777216"},
		{"net.ipv4.tcp_wmem", "4096 65536 16777216"},
		{"net.ipv4.tcp_low_latency", "1"},
		{"net.ipv4.tcp_timestamps", "0"},
		{"kernel.sched_migration_cost_ns", "500000"},
		{"kernel.sched_min_granularity_ns", "10000000"},
		{"vm.swappiness", "1"},
		{"vm.dirty_ratio", "15"},
		{"vm.dirty_background_ratio", "5"},
	}
}

// Config is the host.sysctl section of borda.yaml: changes to the default
// profile.
type Config struct {
	// Set adds keys to the profile or overrides their values.
	Set map[string]string `yaml:"set"`
	// Skip leaves keys of the profile out (neither checked nor applied).
	Skip []string `yaml:"skip"`
}

// Validate reports every key or value that could not be written safely.
func (c Config) Validate() error {
	var errs []error
	for _, k := range sortedKeys(c.Set) {
		if err := validKey(k); err != nil {
			errs = append(errs, fmt.Errorf("sysctl.set: %w", err))
		}
		if err := validValue(c.Set[k]); err != nil {
			errs = append(errs, fmt.Errorf("sysctl.set.%s: %w", k, err))
		}
	}
	for i, k := range c.Skip {
		if err := validKey(k); err != nil {
			errs = append(errs, fmt.Errorf("sysctl.skip[%d]: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

// Profile is the default profile with c's changes applied; new keys come
// last in name order.
func (c Config) Profile() Profile {
	var out Profile
	seen := map[string]bool{}
	for _, e := range DefaultProfile() {
		seen[e.Key] = true
		if v, ok := c.Set[e.Key]; ok {
			e.Value = normalize(v)
		}
		out = append(out, e)
	}
	for _, k := range sortedKeys(c.Set) {
		if !seen[k] {
			out = append(out, Entry{k, normalize(c.Set[k])})
		}
	}
	return slices.DeleteFunc(out, func(e Entry) bool { return slices.Contains(c.Skip, e.Key) })
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

var keyRE = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$`)

// validKey accepts dotted keys whose path cannot leave /proc/sys.
func validKey(k string) error {
	if len(k) > 256 || !keyRE.MatchString(k) {
		return fmt.Errorf("%q is not a sysctl key (dotted words, e.g. vm.swappiness)", k)
	}
	return nil
}

func validValue(v string) error {
	if strings.ContainsAny(v, "\n\r\x00") || len(v) > 4096 {
		return fmt.Errorf("%q: a value is one line of at most 4096 bytes", v)
	}
	if normalize(v) == "" {
		return errors.New("value is empty")
	}
	return nil
}

// normalize collapses runs of blanks: the kernel prints tcp_rmem with tabs.
func normalize(v string) string { return strings.Join(strings.Fields(v), " ") }

// Parse reads sysctl.conf syntax: `key = value` lines, `#` and `;`
// comments, blank lines; a leading `-` (ignore errors) is dropped, keys
// written with slashes are turned into dots. A key given twice keeps its
// last value, in the position of its first.
func Parse(r io.Reader) (Profile, error) {
	var p Profile
	index := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: %q has no '='", n, line)
		}
		k = strings.ReplaceAll(strings.TrimPrefix(strings.TrimSpace(k), "-"), "/", ".")
		if err := validKey(k); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if err := validValue(v); err != nil {
			return nil, fmt.Errorf("line %d: %s: %w", n, k, err)
		}
		if i, dup := index[k]; dup {
			p[i].Value = normalize(v)
			continue
		}
		index[k] = len(p)
		p = append(p, Entry{k, normalize(v)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read sysctl file: %w", err)
	}
	return p, nil
}

// Get returns the value wanted for key.
func (p Profile) Get(key string) (string, bool) {
	for _, e := range p {
		if e.Key == key {
			return e.Value, true
		}
	}
	return "", false
}

// Render is the profile as /etc/sysctl.d/99-borda.conf. Keys in skip
// (obsolete or missing on this kernel) are written as comments with
// their reason, so that `sysctl --system` does not fail on them.
func (p Profile) Render(skip map[string]string) []byte {
	var b bytes.Buffer
	b.WriteString("# Written by `borda host apply`; `borda host revert` removes it and\n")
	b.WriteString("# restores the values it replaced. Edit borda.yaml (host.sysctl) instead.\n")
	for _, e := range p {
		if why, ok := skip[e.Key]; ok {
			fmt.Fprintf(&b, "# %s = %s  (not applied: %s)\n", e.Key, e.Value, why)
			continue
		}
		fmt.Fprintf(&b, "%s = %s\n", e.Key, e.Value)
	}
	return b.Bytes()
}

// Package config assembles borda.yaml from the config types each component
// owns: defaults for everything, strict decoding (unknown keys are errors)
// and validation that names the file, field path and line of every problem.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/borda-edge/borda/internal/alerts"
	"github.com/borda-edge/borda/internal/attach"
	"github.com/borda-edge/borda/internal/auth"
	"github.com/borda-edge/borda/internal/ban"
	"github.com/borda-edge/borda/internal/broker"
	"github.com/borda-edge/borda/internal/hostsetup/firewall"
	"github.com/borda-edge/borda/internal/hostsetup/netplan"
	"github.com/borda-edge/borda/internal/hostsetup/sysctl"
	"github.com/borda-edge/borda/internal/ingest"
	"github.com/borda-edge/borda/internal/logging"
	"github.com/borda-edge/borda/internal/netmon"
	"github.com/borda-edge/borda/internal/netmon/watchdog"
	"github.com/borda-edge/borda/internal/node"
	"github.com/borda-edge/borda/internal/pipeline"
	"github.com/borda-edge/borda/internal/rules"
	"github.com/borda-edge/borda/internal/store"
	"github.com/borda-edge/borda/internal/uplink"
	"github.com/borda-edge/borda/internal/vision"
	"github.com/borda-edge/borda/internal/web"
	"github.com/borda-edge/borda/internal/writeapi"
)

// File is the whole configuration file.
type File struct {
	// DataDir holds all state: broker sessions, time series, queues.
	DataDir string `yaml:"data_dir"`
	// MemoryLimit is the Go runtime's soft memory limit in bytes (like
	// GOMEMLIMIT, which wins when set): above it the garbage collector
	// works harder instead of growing the heap. 0 turns it off.
	MemoryLimit int64          `yaml:"memory_limit"`
	Log         logging.Config `yaml:"log"`
	Broker      broker.Config  `yaml:"broker"`
	Ingest      Ingest         `yaml:"ingest"`
	Store       store.Config   `yaml:"store"`
	Rules       rules.Config   `yaml:"rules"`
	Alerts      alerts.Config  `yaml:"alerts"`
	HTTP        web.Config     `yaml:"http"`
	// Uplink is the store-and-forward outputs (MQTT bridges to the cloud).
	Uplink uplink.Config `yaml:"uplink"`
	// Node is this gateway's identity in a fleet (name, site, labels).
	Node node.Config `yaml:"node"`
	// Attach lists external MQTT brokers borda ingests from (MQTT 5 client,
	// persistent session, shared subscriptions), beside the embedded one.
	Attach []attach.Config `yaml:"attach"`
	// Auth is MQTT authentication (password file, inline users, client
	// certificates) and topic ACLs.
	Auth auth.Config `yaml:"auth"`
	// Netmon is the connectivity monitor (uplinks, failover, resources);
	// off by default.
	Netmon netmon.Config `yaml:"netmon"`
	// Watchdog checks and restarts the services the site depends on.
	Watchdog watchdog.Config `yaml:"watchdog"`
	// Bans is the built-in brute-force protection (fail2ban semantics) and
	// the per-IP connection rate of the MQTT listeners.
	Bans ban.Config `yaml:"bans"`
	// Vision is ML inference on camera frames (ONNX Runtime); off by default.
	Vision vision.Config `yaml:"vision"`
	// Host is what `borda host` sets up on the machine: the kernel
	// profile and the firewall. borda itself never changes the host.
	Host Host `yaml:"host"`
}

// Host is the host section: read only by `borda host` commands.
type Host struct {
	Sysctl   sysctl.Config   `yaml:"sysctl"`
	Firewall firewall.Config `yaml:"firewall"`
	// Netplan is the network `borda host netplan` renders: Ethernet
	// preferred, the cellular modem as backup (secret files relative to
	// the config file's directory).
	Netplan netplan.Config `yaml:"netplan"`
}

// Ingest is the ingest section: which messages are ingested and how the
// pipeline queues them, and how topics and payloads become points.
type Ingest struct {
	Pipeline pipeline.Config `yaml:",inline"`
	Mapping  ingest.Config   `yaml:",inline"`
	// HTTPWrite is the InfluxDB line-protocol write API (POST /write).
	HTTPWrite writeapi.Config `yaml:"http_write"`
}

// DefaultMemoryLimit (100 MiB) keeps a Raspberry-Pi-class box's RSS near
// 120 MiB at 200,000 readings/s for ~10 % more CPU (BENCHMARKS.md); it is
// soft, so a bigger working set still fits, at the cost of more GC.
const (
	DefaultMemoryLimit = 100 << 20
	minMemoryLimit     = 16 << 20
)

// Default is the configuration used when no file is given.
func Default() File {
	return File{
		DataDir:     "./borda-data",
		MemoryLimit: DefaultMemoryLimit,
		Log:         logging.DefaultConfig(),
		Broker:      broker.DefaultConfig(),
		Ingest: Ingest{Pipeline: pipeline.DefaultConfig(), Mapping: ingest.DefaultConfig(),
			HTTPWrite: writeapi.DefaultConfig()},
		Store:    store.DefaultConfig(),
		Rules:    defaultRules(),
		Alerts:   alerts.DefaultConfig(),
		HTTP:     web.DefaultConfig(),
		Auth:     auth.DefaultConfig(),
		Netmon:   netmon.DefaultConfig(),
		Watchdog: watchdog.DefaultConfig(),
		Bans:     ban.DefaultConfig(),
		Vision:   vision.DefaultConfig(),
		Host:     Host{Firewall: firewall.DefaultConfig(), Netplan: netplan.DefaultConfig()},
	}
}

// Problems is every problem found in one configuration file.
type Problems struct {
	File string
	List []string // each "field.path: what is wrong"
}

func (p *Problems) Error() string {
	var b bytes.Buffer
	for i, s := range p.List {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s: %s", p.File, s)
	}
	return b.String()
}

// Load reads, decodes and validates path. An empty path returns Default().
// Errors are *Problems when the file was read but is not valid.
func Load(path string) (File, error) {
	cfg := Default()
	if path == "" {
		return cfg, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and validates data; name is used in error messages.
func Parse(name string, data []byte) (File, error) {
	cfg := Default()
	probs := &Problems{File: name}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		probs.List = append(probs.List, err.Error())
		return cfg, probs
	}
	if len(root.Content) > 0 {
		probs.List = append(probs.List, unknownKeys(root.Content[0], &cfg, "")...)
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) && len(probs.List) == 0 {
			probs.List = append(probs.List, typeErrors(err)...)
		}
	}
	// Keys that were unknown or unreadable kept their defaults, so the
	// rest of the file is still checked: every problem is reported at once.
	probs.List = append(probs.List, cfg.problems()...)
	if len(probs.List) > 0 {
		return cfg, probs
	}
	return cfg, nil
}

// Validate checks a configuration built in code (tests, defaults).
func (f File) Validate() error {
	if p := f.problems(); len(p) > 0 {
		return &Problems{File: "config", List: p}
	}
	return nil
}

func (f File) problems() []string {
	var out []string
	if f.MemoryLimit != 0 && f.MemoryLimit < minMemoryLimit {
		out = append(out, fmt.Sprintf("memory_limit: %d is below %d bytes (16 MiB); use 0 for no limit", f.MemoryLimit, minMemoryLimit))
	}
	if f.DataDir == "" {
		out = append(out, "data_dir: is required")
	}
	if len(f.Broker.Listeners) == 0 && len(f.Attach) == 0 {
		out = append(out, "broker.listeners: at least one listener is required (or an attach: entry, to ingest only from external brokers)")
	}
	sections := []struct {
		name string
		err  error
	}{
		{"log", f.Log.Validate()},
		{"broker", f.Broker.Validate()},
		{"ingest", f.Ingest.Pipeline.Validate()},
		{"ingest", f.Ingest.Mapping.Validate()},
		{"ingest.http_write", f.Ingest.HTTPWrite.Validate()},
		{"store", f.Store.Validate()},
		{"rules", f.Rules.Validate()},
		{"alerts", f.Alerts.Validate()},
		{"http", f.HTTP.Validate()},
		{"uplink", f.Uplink.Validate()},
		{"node", f.Node.Validate()},
		{"auth", f.Auth.Validate()},
		{"netmon", f.Netmon.Validate()},
		{"watchdog", f.Watchdog.Validate()},
		{"bans", f.Bans.Validate()},
		{"vision", f.Vision.Validate()},
		{"host", f.Host.Sysctl.Validate()},
		{"host", f.Host.Firewall.Validate()},
		{"host.netplan", f.Host.Netplan.Validate()},
	}
	for _, s := range sections {
		for _, e := range flatten(s.err) {
			out = append(out, s.name+"."+e.Error())
		}
	}
	for _, e := range flatten(attach.ValidateAll(f.Attach)) {
		out = append(out, "attach"+e.Error()) // [i].key
	}
	return out
}

// flatten unpacks errors.Join trees into their leaves.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

func typeErrors(err error) []string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return te.Errors
	}
	return []string{err.Error()}
}

// defaultRules are the seed collector's three real-time alerts, so that a
// zero-config borda raises them like the stack it replaces.
func defaultRules() rules.Config {
	c := rules.DefaultConfig()
	c.Rules = rules.SeedRules()
	return c
}

// Package modem reads cellular modem status (signal quality, registration,
// access technology, operator) from ModemManager over D-Bus and exports it
// as metrics. A host without ModemManager, or without a D-Bus system bus,
// is reported once and is not an error.
package modem

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// ModemManager's D-Bus names.
const (
	service     = "org.freedesktop.ModemManager1"
	rootPath    = "/org/freedesktop/ModemManager1"
	ifaceModem  = "org.freedesktop.ModemManager1.Modem"
	ifaceModem3 = "org.freedesktop.ModemManager1.Modem.Modem3gpp"
)

// Config is netmon.modems.
type Config struct {
	// Enabled reads ModemManager (default true: absence is quiet).
	Enabled bool `yaml:"enabled"`
	// Interval between reads.
	Interval time.Duration `yaml:"interval"`
	// Bus is the D-Bus address; empty: the system bus
	// (DBUS_SYSTEM_BUS_ADDRESS or /run/dbus/system_bus_socket).
	Bus string `yaml:"bus"`
}

// DefaultConfig reads the system bus every 30 s.
func DefaultConfig() Config { return Config{Enabled: true, Interval: 30 * time.Second} }

// Validate names each bad key.
func (c Config) Validate() error {
	if c.Interval < 100*time.Millisecond {
		return fmt.Errorf("interval: %s must be at least 100ms", c.Interval)
	}
	return nil
}

// Status is one modem as ModemManager reports it.
type Status struct {
	Path          string `json:"path"`           // D-Bus object path
	Name          string `json:"name"`           // primary port (e.g. cdc-wdm0): the metrics label
	Manufacturer  string `json:"manufacturer"`   //
	Model         string `json:"model"`          //
	State         string `json:"state"`          // connected, registered, searching, ...
	SignalPercent uint32 `json:"signal_percent"` // 0..100
	SignalRecent  bool   `json:"signal_recent"`  // ModemManager refreshed it recently
	AccessTech    string `json:"access_tech"`    // lte, 5gnr, umts, ... joined with "+"
	Registration  string `json:"registration"`   // 3GPP: home, roaming, searching, denied, idle, unknown
	Operator      string `json:"operator"`       // 3GPP operator name
}

// Registered reports a 3GPP registration on the home network or roaming.
func (s Status) Registered() bool {
	return strings.HasPrefix(s.Registration, "home") || strings.HasPrefix(s.Registration, "roaming")
}

// Reader polls ModemManager.
type Reader struct {
	cfg  Config
	log  *slog.Logger
	reg  prometheus.Registerer
	met  *metrics
	mu   sync.Mutex
	mods []Status
	note string // why there are no readings ("" while ModemManager answers)
}

// New returns a reader; Run polls until ctx ends.
func New(cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Reader, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	return &Reader{cfg: cfg, log: log, reg: reg, met: newMetrics()}, nil
}

// Modems returns the last reading (nil before the first or without
// ModemManager) and, when empty, why.
func (r *Reader) Modems() ([]Status, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Status(nil), r.mods...), r.note
}

// Run reads every interval until ctx ends. It returns an error only when
// its metrics cannot be registered.
func (r *Reader) Run(ctx context.Context) error {
	if err := r.met.register(r.reg); err != nil {
		return fmt.Errorf("modem metrics: %w", err)
	}
	defer r.met.group.Unregister()
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	var conn *dbus.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for {
		var err error
		if conn == nil {
			conn, err = r.dial(ctx)
		}
		if err == nil {
			err = r.poll(ctx, conn)
			if err != nil && !errors.Is(err, errAbsent) { // a broken connection: dial again next time
				conn.Close()
				conn = nil
			}
		}
		r.report(err)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

var errAbsent = errors.New("ModemManager is not running (no modem status; not an error)")

func (r *Reader) dial(ctx context.Context) (*dbus.Conn, error) {
	var (
		c   *dbus.Conn
		err error
	)
	if r.cfg.Bus != "" {
		c, err = dbus.Connect(r.cfg.Bus, dbus.WithContext(ctx))
	} else {
		c, err = dbus.ConnectSystemBus(dbus.WithContext(ctx))
	}
	if err != nil {
		return nil, fmt.Errorf("no D-Bus system bus (no modem status): %w", err)
	}
	return c, nil
}

// poll reads every modem once. ModemManager is not started by the call
// (no D-Bus activation): its name must already have an owner.
func (r *Reader) poll(ctx context.Context, c *dbus.Conn) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var has bool
	if err := c.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, service).Store(&has); err != nil {
		return fmt.Errorf("ask the bus for ModemManager: %w", err)
	}
	if !has {
		return errAbsent
	}
	var objs map[dbus.ObjectPath]map[string]map[string]dbus.Variant
	err := c.Object(service, rootPath).CallWithContext(ctx, "org.freedesktop.DBus.ObjectManager.GetManagedObjects", 0).Store(&objs)
	if err != nil {
		return fmt.Errorf("list ModemManager's modems: %w", err)
	}
	mods := make([]Status, 0, len(objs))
	for path, ifaces := range objs {
		if m, ok := ifaces[ifaceModem]; ok {
			mods = append(mods, decode(path, m, ifaces[ifaceModem3]))
		}
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].Path < mods[j].Path })
	r.met.set(mods)
	r.mu.Lock()
	r.mods = mods
	r.mu.Unlock()
	return nil
}

// report logs a change of availability once, not every poll.
func (r *Reader) report(err error) {
	note := ""
	if err != nil {
		note = err.Error()
	}
	r.mu.Lock()
	changed := note != r.note
	r.note = note
	if err != nil {
		r.mods = nil
	}
	r.mu.Unlock()
	r.met.up.Set(b2f(err == nil))
	if err != nil {
		r.met.set(nil)
	}
	switch {
	case !changed:
	case err == nil:
		r.log.Info("modem: reading ModemManager", "modems", len(r.mods))
	case errors.Is(err, errAbsent):
		r.log.Info("modem: " + note)
	default:
		r.log.Warn("modem: cannot read ModemManager; trying again every interval", "err", err)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

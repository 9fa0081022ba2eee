package netmon

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/borda-edge/borda/internal/netmon/modem"
)

// Config is the netmon section: the uplinks the gateway can reach the
// internet through, how they are probed and when the default route moves.
type Config struct {
	// Enabled runs the monitor.
	Enabled bool `yaml:"enabled"`
	// Uplinks in any order; Priority decides which one is preferred.
	Uplinks []UplinkConfig `yaml:"uplinks"`
	// Interval between probe rounds of one uplink.
	Interval time.Duration `yaml:"interval"`
	// Timeout of one probe (a TCP connect or an ICMP echo).
	Timeout time.Duration `yaml:"timeout"`
	// LatencyWarning: an average latency above it is an event (seed: 100 ms).
	LatencyWarning time.Duration `yaml:"latency_warning"`
	// LatencyHysteresis: high latency is back to normal only at or below
	// latency_warning - latency_hysteresis.
	LatencyHysteresis time.Duration `yaml:"latency_hysteresis"`
	// FailRounds consecutive failed rounds (no target answered) make an
	// uplink unreachable.
	FailRounds int `yaml:"fail_rounds"`
	// FailAfter, when set, also makes an uplink unreachable once its
	// rounds have failed without a break for this long, whichever of
	// fail_rounds and fail_after comes first.
	FailAfter time.Duration `yaml:"fail_after"`
	// HoldTime a more preferred uplink must be healthy before the default
	// route moves back to it (no flapping).
	HoldTime time.Duration `yaml:"hold_time"`
	// Window is the number of probe results latency and loss are computed over.
	Window int `yaml:"window"`
	// ManageRoutes lets the monitor write default routes (netlink); when
	// false it only measures and reports which uplink should be active.
	ManageRoutes bool `yaml:"manage_routes"`
	// ActiveMetric is the metric of the default route through the active
	// uplink; it must be lower than every uplink's own metric.
	ActiveMetric int `yaml:"active_metric"`
	// Resources: host CPU, memory, disk and temperature warnings.
	Resources ResourceConfig `yaml:"resources"`
	// Recovery: a command run when every link stays down (off by default).
	Recovery RecoveryConfig `yaml:"recovery"`
	// Modems: cellular modem status from ModemManager (D-Bus), as metrics.
	Modems modem.Config `yaml:"modems"`
}

// UplinkConfig is one way out.
type UplinkConfig struct {
	// Name labels metrics and events (defaults to the interface).
	Name string `yaml:"name"`
	// Interface is the network device (eth0, wwan0).
	Interface string `yaml:"interface"`
	// Priority: lower is preferred.
	Priority int `yaml:"priority"`
	// Targets probed through this interface: "host:port" is a TCP connect,
	// "icmp:host" an ICMP echo through an unprivileged ping socket.
	// Empty: the defaults (TCP 8.8.8.8:53 and 1.1.1.1:53).
	Targets []string `yaml:"targets"`
	// Gateway is the next hop of this uplink's default route; empty for a
	// point-to-point device (a modem's wwan0), routed by device only.
	Gateway string `yaml:"gateway"`
	// IPv6 also manages this uplink's IPv6 default routes (::/0), with
	// the same metrics, through Gateway6 (or by device when empty).
	IPv6 bool `yaml:"ipv6"`
	// Gateway6 is the IPv6 next hop (a link-local fe80:: address of the
	// router is fine: the route names the interface).
	Gateway6 string `yaml:"gateway6"`
	// Metric of this uplink's own (standby) default route, which also
	// carries its probes. 0: 100 * (position in priority order + 1).
	Metric int `yaml:"metric"`
}

// DefaultTargets are the seed's ping targets, probed with TCP connects to
// their DNS port (no ICMP permission needed).
var DefaultTargets = []string{"8.8.8.8:53", "1.1.1.1:53"}

// DefaultConfig mirrors the seed's watchdog: eth0 preferred, wwan0 (the 5G
// modem) as backup, latency warning at 100 ms; disabled until configured.
func DefaultConfig() Config {
	return Config{
		Enabled: false,
		Uplinks: []UplinkConfig{
			{Name: "ethernet", Interface: "eth0", Priority: 0},
			{Name: "cellular", Interface: "wwan0", Priority: 1},
		},
		Interval:          5 * time.Second,
		Timeout:           time.Second,
		LatencyWarning:    100 * time.Millisecond,
		LatencyHysteresis: 20 * time.Millisecond,
		FailRounds:        3,
		HoldTime:          60 * time.Second,
		Window:            20,
		ManageRoutes:      true,
		ActiveMetric:      10,
		Resources:         DefaultResourceConfig(),
		Recovery:          DefaultRecoveryConfig(),
		Modems:            modem.DefaultConfig(),
	}
}

// Target is a parsed probe target.
type Target struct {
	ICMP bool
	Addr string // host:port for TCP, host for ICMP
}

func (t Target) String() string {
	if t.ICMP {
		return "icmp:" + t.Addr
	}
	return t.Addr
}

// ParseTarget parses "host:port" (TCP) or "icmp:host".
func ParseTarget(s string) (Target, error) {
	if h, ok := strings.CutPrefix(s, "icmp:"); ok {
		if h == "" || strings.Contains(h, ":") && net.ParseIP(h) == nil {
			return Target{}, fmt.Errorf("%q: want icmp:host", s)
		}
		return Target{ICMP: true, Addr: h}, nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" || port == "" {
		return Target{}, fmt.Errorf("%q: want host:port or icmp:host", s)
	}
	return Target{Addr: s}, nil
}

// normalized returns the uplinks with defaults filled in, sorted by
// priority (stable: config order breaks ties).
func (c Config) normalized() []UplinkConfig {
	us := make([]UplinkConfig, len(c.Uplinks))
	copy(us, c.Uplinks)
	for i := 1; i < len(us); i++ { // insertion sort, stable
		for j := i; j > 0 && us[j].Priority < us[j-1].Priority; j-- {
			us[j], us[j-1] = us[j-1], us[j]
		}
	}
	for i := range us {
		if us[i].Name == "" {
			us[i].Name = us[i].Interface
		}
		if len(us[i].Targets) == 0 {
			us[i].Targets = DefaultTargets
		}
		if us[i].Metric == 0 {
			us[i].Metric = 100 * (i + 1)
		}
	}
	return us
}

// Validate reports every problem, each naming its yaml key.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Enabled && len(c.Uplinks) == 0 {
		add("uplinks: at least one uplink is needed")
	}
	names := map[string]bool{}
	ifaces := map[string]bool{}
	for i, u := range c.Uplinks {
		p := fmt.Sprintf("uplinks[%d].", i)
		if u.Interface == "" {
			add("%sinterface: is required", p)
		} else if len(u.Interface) > 15 || strings.ContainsAny(u.Interface, "/ \t") {
			add("%sinterface: %q is not a valid interface name", p, u.Interface)
		} else if ifaces[u.Interface] {
			add("%sinterface: %q is used twice", p, u.Interface)
		}
		ifaces[u.Interface] = true
		name := u.Name
		if name == "" {
			name = u.Interface
		}
		if names[name] {
			add("%sname: %q is used twice", p, name)
		}
		names[name] = true
		for j, t := range u.Targets {
			if _, err := ParseTarget(t); err != nil {
				add("%stargets[%d]: %w", p, j, err)
			}
		}
		if u.Gateway != "" {
			if ip := net.ParseIP(u.Gateway); ip == nil || ip.To4() == nil {
				add("%sgateway: %q is not an IPv4 address", p, u.Gateway)
			}
		}
		if u.Gateway6 != "" {
			if ip := net.ParseIP(u.Gateway6); ip == nil || ip.To4() != nil {
				add("%sgateway6: %q is not an IPv6 address", p, u.Gateway6)
			} else if !u.IPv6 {
				add("%sgateway6: needs ipv6: true", p)
			}
		}
		if u.Metric < 0 {
			add("%smetric: %d must not be negative", p, u.Metric)
		} else if u.Metric != 0 && u.Metric <= c.ActiveMetric {
			add("%smetric: %d must be above active_metric %d", p, u.Metric, c.ActiveMetric)
		}
	}
	if c.Interval < 10*time.Millisecond {
		add("interval: %s must be at least 10ms", c.Interval)
	}
	if c.Timeout < time.Millisecond {
		add("timeout: %s must be at least 1ms", c.Timeout)
	}
	if c.LatencyWarning <= 0 {
		add("latency_warning: %s must be positive", c.LatencyWarning)
	}
	if c.LatencyHysteresis < 0 || c.LatencyHysteresis >= c.LatencyWarning {
		add("latency_hysteresis: %s must be at least 0 and below latency_warning", c.LatencyHysteresis)
	}
	if c.FailRounds < 1 || c.FailRounds > 1000 {
		add("fail_rounds: %d is out of range 1..1000", c.FailRounds)
	}
	if c.FailAfter < 0 {
		add("fail_after: %s must not be negative", c.FailAfter)
	}
	if c.HoldTime < 0 {
		add("hold_time: %s must not be negative", c.HoldTime)
	}
	if c.Window < 1 || c.Window > 10000 {
		add("window: %d is out of range 1..10000", c.Window)
	}
	for _, e := range flattenErr(c.Resources.Validate()) {
		add("resources.%w", e)
	}
	for _, e := range flattenErr(c.Recovery.Validate()) {
		add("recovery.%w", e)
	}
	for _, e := range flattenErr(c.Modems.Validate()) {
		add("modems.%w", e)
	}
	if c.ActiveMetric < 0 {
		add("active_metric: %d must not be negative", c.ActiveMetric)
	}
	return errors.Join(errs...)
}

func flattenErr(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

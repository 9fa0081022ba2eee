// Package watchdog is the service watchdog of issue 7: it checks configured
// services (a TCP port, a pidfile, a process name or a systemd unit),
// restarts them when they fail, with exponential backoff and a restart
// limit per window, and reports state changes as events and metrics.
package watchdog

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// Check kinds.
const (
	CheckTCP     = "tcp"
	CheckPidfile = "pidfile"
	CheckProcess = "process"
	CheckSystemd = "systemd"
)

// Config is the watchdog section.
type Config struct {
	// Services to watch.
	Services []ServiceConfig `yaml:"services"`
}

// ServiceConfig is one watched service. Zero durations and counts take the
// defaults (see DefaultService).
type ServiceConfig struct {
	// Name labels metrics, events and logs.
	Name string `yaml:"name"`
	// Check is tcp, pidfile, process or systemd.
	Check string `yaml:"check"`
	// Address is host:port for the tcp check.
	Address string `yaml:"address"`
	// Pidfile for the pidfile check.
	Pidfile string `yaml:"pidfile"`
	// Process is the executable name (as in /proc/<pid>/comm) for the
	// process check; empty: Name.
	Process string `yaml:"process"`
	// Unit is the systemd unit for the systemd check.
	Unit string `yaml:"unit"`
	// RestartCommand is the argv run (without a shell) to restart the
	// service. Empty: a systemd service is restarted through D-Bus, any
	// other is only reported.
	RestartCommand []string `yaml:"restart_command"`
	// Interval between checks.
	Interval time.Duration `yaml:"interval"`
	// Timeout of one check.
	Timeout time.Duration `yaml:"timeout"`
	// RestartTimeout bounds one restart command or D-Bus restart.
	RestartTimeout time.Duration `yaml:"restart_timeout"`
	// Backoff between restarts: min after the first, doubled up to max;
	// reset when the service is healthy again.
	Backoff Backoff `yaml:"backoff"`
	// MaxRestarts within RestartWindow; then the watchdog gives up until
	// the service is healthy again.
	MaxRestarts   int           `yaml:"max_restarts"`
	RestartWindow time.Duration `yaml:"restart_window"`
}

// Backoff between restarts.
type Backoff struct {
	Min time.Duration `yaml:"min"`
	Max time.Duration `yaml:"max"`
}

// DefaultService holds the defaults every zero field of a service takes.
func DefaultService() ServiceConfig {
	return ServiceConfig{
		Interval:       10 * time.Second,
		Timeout:        2 * time.Second,
		RestartTimeout: 30 * time.Second,
		Backoff:        Backoff{Min: time.Second, Max: 5 * time.Minute},
		MaxRestarts:    5,
		RestartWindow:  10 * time.Minute,
	}
}

// DefaultConfig watches nothing until services are configured.
func DefaultConfig() Config { return Config{} }

// withDefaults fills zero fields.
func (s ServiceConfig) withDefaults() ServiceConfig {
	d := DefaultService()
	if s.Interval == 0 {
		s.Interval = d.Interval
	}
	if s.Timeout == 0 {
		s.Timeout = d.Timeout
	}
	if s.RestartTimeout == 0 {
		s.RestartTimeout = d.RestartTimeout
	}
	if s.Backoff.Min == 0 {
		s.Backoff.Min = d.Backoff.Min
	}
	if s.Backoff.Max == 0 {
		s.Backoff.Max = max(d.Backoff.Max, s.Backoff.Min)
	}
	if s.MaxRestarts == 0 {
		s.MaxRestarts = d.MaxRestarts
	}
	if s.RestartWindow == 0 {
		s.RestartWindow = d.RestartWindow
	}
	if s.Check == CheckProcess && s.Process == "" {
		s.Process = s.Name
	}
	return s
}

// Validate reports every problem, each naming its yaml key.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	names := map[string]bool{}
	for i, raw := range c.Services {
		p := fmt.Sprintf("services[%d].", i)
		s := raw.withDefaults()
		if s.Name == "" {
			add("%sname: is required", p)
		} else if names[s.Name] {
			add("%sname: %q is used twice", p, s.Name)
		}
		names[s.Name] = true
		switch s.Check {
		case CheckTCP:
			if host, port, err := net.SplitHostPort(s.Address); err != nil || host == "" || port == "" {
				add("%saddress: %q: want host:port", p, s.Address)
			}
		case CheckPidfile:
			if s.Pidfile == "" {
				add("%spidfile: is required for check pidfile", p)
			}
		case CheckProcess:
			if s.Process == "" {
				add("%sprocess: is required for check process (or set name)", p)
			} else if len(s.Process) > 15 {
				add("%sprocess: %q is longer than 15 characters (the kernel's comm)", p, s.Process)
			}
		case CheckSystemd:
			if s.Unit == "" {
				add("%sunit: is required for check systemd", p)
			}
		case "":
			add("%scheck: is required (tcp, pidfile, process, systemd)", p)
		default:
			add("%scheck: %q is not one of tcp, pidfile, process, systemd", p, s.Check)
		}
		if len(raw.RestartCommand) > 0 && raw.RestartCommand[0] == "" {
			add("%srestart_command: the program (first element) is empty", p)
		}
		if s.Interval < 10*time.Millisecond {
			add("%sinterval: %s must be at least 10ms", p, s.Interval)
		}
		if s.Timeout < time.Millisecond {
			add("%stimeout: %s must be at least 1ms", p, s.Timeout)
		}
		if s.RestartTimeout < time.Millisecond {
			add("%srestart_timeout: %s must be at least 1ms", p, s.RestartTimeout)
		}
		if s.Backoff.Min < time.Millisecond {
			add("%sbackoff.min: %s must be at least 1ms", p, s.Backoff.Min)
		}
		if s.Backoff.Max < s.Backoff.Min {
			add("%sbackoff.max: %s must not be below backoff.min %s", p, s.Backoff.Max, s.Backoff.Min)
		}
		if s.MaxRestarts < 1 || s.MaxRestarts > 1000 {
			add("%smax_restarts: %d is out of range 1..1000", p, s.MaxRestarts)
		}
		if s.RestartWindow < 0 {
			add("%srestart_window: %s must not be negative", p, s.RestartWindow)
		}
	}
	return errors.Join(errs...)
}

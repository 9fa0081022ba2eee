// Package bench is borda's benchmark harness (`borda bench`): it runs named
// scenarios end to end on this machine — borda and Mosquitto started as
// child processes on free loopback ports with fresh data directories,
// driven by the fleet simulator with the same load — checks that nothing
// was lost and reports throughput, latency, CPU, memory and disk use side
// by side.
package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/borda-edge/borda/internal/simulate"
)

// DefaultMosquitto is where Debian's mosquitto package installs the broker.
const DefaultMosquitto = "/usr/sbin/mosquitto"

// Load is the work every scenario of one run gets: the same simulated
// fleet, rate and duration.
type Load struct {
	Devices  int           // simulated devices
	Conns    int           // publisher connections; 0 = min(Devices, 8)
	Rate     float64       // total messages/s; 0 = as fast as the server takes them
	Duration time.Duration // how long the simulator publishes
	Profile  string        // device mix: factory, city, vehicles or mixed
	Seed     int64         // the same seed, the same readings
}

// Options configure a run of the harness.
type Options struct {
	Load
	Scenarios    string    // comma-separated scenario names; "" = all
	JSON         bool      // print the report as JSON instead of tables
	Keep         bool      // keep the data directories (their paths are logged)
	BordaBin     string    // borda executable, started as `<BordaBin> run -c <generated yaml>`
	BordaVersion string    // shown in the report's header
	MosquittoBin string    // default DefaultMosquitto
	Log          io.Writer // notes (stderr); nil = none
	Progress     io.Writer // the simulator's progress lines; nil = none
}

// simConfig is the simulator configuration of the load against broker
// address addr with qos. Client and device ids are fixed: every scenario
// starts a fresh server.
func (l Load) simConfig(addr string, qos byte) simulate.Config {
	return simulate.Config{
		Broker: "tcp://" + addr, Devices: l.Devices, Conns: l.Conns, Rate: l.Rate,
		Duration: l.Duration, QoS: qos, Profile: l.Profile, Seed: l.Seed,
		ClientIDPrefix: "borda-bench", DevicePrefix: "bench",
	}
}

// Validate fills in defaults and reports every problem of the options,
// and returns the selected scenarios.
func (o *Options) Validate() ([]Scenario, error) {
	var errs []error
	if o.Conns == 0 {
		o.Conns = min(o.Devices, 8)
	}
	if o.MosquittoBin == "" {
		o.MosquittoBin = DefaultMosquitto
	}
	if o.Duration <= 0 {
		errs = append(errs, fmt.Errorf("duration: %s must be > 0", o.Duration))
	} else {
		cfg := o.simConfig("127.0.0.1:1883", 0)
		if err := cfg.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	scs, err := SelectScenarios(o.Scenarios)
	if err != nil {
		errs = append(errs, fmt.Errorf("scenarios: %w", err))
	}
	for _, sc := range scs {
		if sc.Alerts && o.Duration > 0 {
			probe := o.alertProbeConfig("127.0.0.1:1883")
			if err := probe.Validate(); err != nil {
				errs = append(errs, fmt.Errorf("alert probe: %w", err))
			}
			break
		}
	}
	for _, sc := range scs {
		if sc.Server == ServerBorda && o.BordaBin == "" {
			errs = append(errs, errors.New("borda executable: not set"))
			break
		}
	}
	return scs, errors.Join(errs...)
}

// Run runs the selected scenarios one after another, writes the report to
// stdout (tables, or JSON) and returns it. A scenario that fails or loses
// messages is in the report with its errors (Report.OK is false); Run
// itself fails only on invalid options or when the report cannot be
// written. When ctx is cancelled (SIGINT) the running scenario stops
// early and is reported as interrupted, the remaining ones as not run.
// Every child process is stopped and every data directory removed (unless
// Keep) before Run returns.
func Run(ctx context.Context, opts Options, stdout io.Writer) (Report, error) {
	scs, err := opts.Validate()
	if err != nil {
		return Report{}, err
	}
	logw := opts.Log
	if logw == nil {
		logw = io.Discard
	}
	rep := Report{Load: opts.Load, Machine: machineInfo(ctx, opts)}
	r := &runner{opts: opts, log: logw, progress: opts.Progress}
	for _, sc := range scs {
		if ctx.Err() != nil {
			res := newResult(sc)
			res.fail(errors.New("not run: interrupted"))
			rep.Results = append(rep.Results, res)
			continue
		}
		fmt.Fprintf(logw, "== %s: %s\n", sc.Name, sc.About)
		rep.Results = append(rep.Results, r.runScenario(ctx, sc))
	}
	addRatios(rep.Results)
	if err := rep.Write(stdout, opts.JSON); err != nil {
		return rep, fmt.Errorf("write report: %w", err)
	}
	return rep, nil
}

// Machine describes where the run happened.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model,omitempty"`
	Kernel    string `json:"kernel,omitempty"`
	Go        string `json:"go"`
	Borda     string `json:"borda,omitempty"`
	Mosquitto string `json:"mosquitto,omitempty"`
}

func machineInfo(ctx context.Context, opts Options) Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), Borda: opts.BordaVersion}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = string(bytes.TrimSpace(b))
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPUModel = cpuModel(b)
	}
	m.Mosquitto = mosquittoVersion(ctx, opts.MosquittoBin)
	return m
}

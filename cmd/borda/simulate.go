package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/borda-edge/borda/internal/simulate"
)

const simulateUsage = `Usage: borda simulate [flags]

Simulates a fleet of devices publishing readings to an MQTT broker (borda or
any other), prints a progress line every second and a report at the end.
With --verify it then counts through borda's query API what was stored and
fails (exit 1) when readings are missing.

Flags:
`

// simulateFlags are the command line of borda simulate.
type simulateFlags struct {
	cfg           simulate.Config
	qos           uint
	jsonOut       bool
	quiet         bool
	verifyURL     string
	verifyTimeout time.Duration
}

func parseSimulateFlags(args []string, stderr io.Writer) (simulateFlags, error) {
	var f simulateFlags
	c := &f.cfg
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, simulateUsage); fs.PrintDefaults() }
	fs.StringVar(&c.Broker, "broker", "tcp://127.0.0.1:1883", "broker URL: tcp://, mqtt://, ssl:// or mqtts://host:port")
	fs.IntVar(&c.Devices, "devices", 100, "number of simulated devices")
	fs.Float64Var(&c.Rate, "rate", 0, "total messages/s over all devices (0 = as fast as possible)")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "how long to run (0 = until --count)")
	fs.Int64Var(&c.Count, "count", 0, "stop after this many messages (0 = no limit; alone it disables the default --duration)")
	fs.UintVar(&f.qos, "qos", 0, "QoS of the publishes: 0 or 1")
	fs.IntVar(&c.Conns, "conns", 0, "MQTT connections to spread the devices over (default min(devices, 8))")
	fs.StringVar(&c.Username, "username", "", "MQTT user name")
	fs.StringVar(&c.Password, "password", "", "MQTT password")
	fs.StringVar(&c.CAFile, "cafile", "", "PEM file of CAs that verify the broker's certificate")
	fs.BoolVar(&c.InsecureSkipVerify, "insecure", false, "do not verify the broker's TLS certificate")
	fs.StringVar(&c.ClientCert, "cert", "", "PEM client certificate (with --key)")
	fs.StringVar(&c.ClientKey, "key", "", "PEM client key")
	fs.StringVar(&c.Profile, "profile", simulate.ProfileFactory, "device mix: factory, city, vehicles or mixed")
	fs.Int64Var(&c.Seed, "seed", 1, "seed of the generators (same seed, same readings)")
	fs.Float64Var(&c.AnomalyRate, "anomaly-rate", 0, "fraction of readings that are anomalies (spikes, drifts, stuck values)")
	fs.Float64Var(&c.MalformedRate, "malformed-rate", 0, "fraction of messages with a malformed payload")
	fs.Float64Var(&c.SilentRate, "silent-rate", 0, "fraction of devices that go silent part-way")
	fs.StringVar(&c.ClientIDPrefix, "client-id", "borda-sim", "MQTT client id prefix")
	fs.StringVar(&c.DevicePrefix, "device-prefix", "sim", "device id prefix (ids are <prefix>-00042)")
	fs.IntVar(&c.MaxInflight, "inflight", 100, "QoS 1 window of unacknowledged publishes per connection")
	fs.BoolVar(&f.jsonOut, "json", false, "print the report as JSON")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress lines")
	fs.StringVar(&f.verifyURL, "verify", "", "after the run, count the stored readings through borda's query API at this URL (http://host:8888)")
	fs.DurationVar(&f.verifyTimeout, "verify-timeout", time.Minute, "how long --verify may wait for borda to store everything")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if f.qos > 1 {
		return f, fmt.Errorf("--qos: %d is not supported (0 or 1)", f.qos)
	}
	c.QoS = byte(f.qos)
	explicit := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { explicit[fl.Name] = true })
	if explicit["count"] && !explicit["duration"] {
		c.Duration = 0
	}
	if err := c.Validate(); err != nil {
		return f, err
	}
	return f, nil
}

func cmdSimulate(args []string, stdout, stderr io.Writer) int {
	f, err := parseSimulateFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "borda simulate: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var progress io.Writer = stderr
	if f.quiet {
		progress = nil
	}
	rep, runErr := simulate.Run(ctx, f.cfg, progress)
	stop() // from here on a (second) SIGINT ends the process, e.g. during --verify
	out := simulateOutput{Report: rep}
	code := 0
	if runErr != nil {
		fmt.Fprintf(stderr, "borda simulate: %v\n", runErr)
		code = 1
		if rep.Devices == nil { // nothing ran (could not connect)
			return code
		}
	}
	if f.verifyURL != "" && rep.Readings > 0 {
		vctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.verifyTimeout)
		vr, err := simulate.Verify(vctx, f.verifyURL, rep, 0)
		cancel()
		if err != nil {
			fmt.Fprintf(stderr, "borda simulate: %v\n", err)
			code = 1
		} else {
			out.Verify = &vr
			if !vr.OK() {
				code = 1
			}
		}
	}
	if err := out.print(stdout, f.jsonOut); err != nil {
		fmt.Fprintf(stderr, "borda simulate: %v\n", err)
		return 1
	}
	return code
}

// simulateOutput is what borda simulate prints: {"report":...,"verify":...}.
type simulateOutput struct {
	Report simulate.Report        `json:"report"`
	Verify *simulate.VerifyReport `json:"verify,omitempty"`
}

func (o simulateOutput) print(w io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(o)
	}
	r := o.Report
	fmt.Fprintf(w, "sent %d messages in %.2fs: %.0f msg/s (qos %d, %d connections, profile %s)\n",
		r.Sent, r.Elapsed.Seconds(), r.Rate, r.QoS, r.Conns, r.Profile)
	fmt.Fprintf(w, "readings %d, anomalies %d, malformed %d, silent devices %d, errors %d\n",
		r.Readings, r.Anomalies, r.Malformed, r.Silent, r.Errors)
	fmt.Fprintf(w, "simulator cpu %.2fs (%.0f%% of one core)\n", r.ProcessCPU, 100*r.ProcessCPU/max(r.Elapsed.Seconds(), 1e-9))
	if l := r.AckLatency; l.Count > 0 {
		fmt.Fprintf(w, "ack latency: p50 %v  p90 %v  p99 %v  max %v\n", l.P50, l.P90, l.P99, l.Max)
	}
	if v := o.Verify; v != nil {
		fmt.Fprintf(w, "verify: expected %d, stored %d, missing %d, extra %d\n", v.Expected, v.Stored, v.Missing, v.Extra)
		ids := slices.Sorted(maps.Keys(v.MissingByDevice))
		for i, id := range ids {
			if i == 20 {
				fmt.Fprintf(w, "  ... and %d more devices (--json lists all)\n", len(ids)-i)
				break
			}
			fmt.Fprintf(w, "  %s: %d readings missing\n", id, v.MissingByDevice[id])
		}
	}
	return nil
}

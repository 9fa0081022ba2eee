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

	"github.com/borda-edge/borda/internal/progress"
	"github.com/borda-edge/borda/internal/simulate"
)

const simulateUsage = `Usage: borda simulate [flags]

Simulates a fleet of devices publishing readings to an MQTT broker (borda or
any other), shows a progress line on a terminal (every second; --progress
prints it elsewhere too) and a report at the end.
With --verify it then counts through borda's query API what was stored and
fails (exit 1) when readings are missing. With --expect-alerts it subscribes
to the alert topic first, matches every alert borda's seed rules should raise
(temperature > 80, pressure > 100, speed > 120) to its reading, reports
publish -> alert latency and fails (exit 1) when alerts are missing;
--alert-rate forces a fraction of the readings over those thresholds.

Flags:
`

// simulateFlags are the command line of borda simulate.
type simulateFlags struct {
	cfg           simulate.Config
	qos           uint
	jsonOut       bool
	quiet         bool
	progress      bool // progress lines even when stderr is not a terminal
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
	fs.Float64Var(&c.AlertRate, "alert-rate", 0, "fraction of all readings forced over a seed alert threshold, each starting a new alert (at most 0.5)")
	fs.BoolVar(&c.ExpectAlerts, "expect-alerts", false, "subscribe to --alert-topic (QoS 2) and match every alert to its reading: latency, missing, unexpected")
	fs.StringVar(&c.AlertFilter, "alert-topic", simulate.DefaultAlertFilter, "topic filter the alerts arrive on (--expect-alerts)")
	fs.DurationVar(&c.AlertGrace, "alert-grace", simulate.DefaultAlertGrace, "--expect-alerts: after the run, wait for missing alerts until none arrived for this long")
	fs.BoolVar(&f.jsonOut, "json", false, "print the report as JSON")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress lines")
	fs.BoolVar(&f.progress, "progress", false, "progress lines on stderr even when it is not a terminal")
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
	var prog io.Writer // a line redrawn on a terminal; none in logs and pipes
	if !f.quiet {
		prog = progress.For(stderr, f.progress)
	}
	rep, runErr := simulate.Run(ctx, f.cfg, prog)
	progress.Finish(prog)
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
	if a := rep.Alerts; a != nil && !a.OK() {
		fmt.Fprintf(stderr, "borda simulate: %d of %d alerts and %d of %d resolved events never arrived on %s\n",
			a.Missing, a.Expected, a.Resolved.Missing, a.Resolved.Expected, a.Filter)
		code = 1
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
	if a := r.Alerts; a != nil {
		printAlerts(w, a)
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

func printAlerts(w io.Writer, a *simulate.AlertReport) {
	fmt.Fprintf(w, "alerts on %s (qos %d): expected %d (%d forced), received %d, missing %d, unexpected %d\n",
		a.Filter, a.QoS, a.Expected, a.Forced, a.Received, a.Missing, a.Unexpected)
	if l := a.Latency; l.Count > 0 {
		fmt.Fprintf(w, "publish->alert latency: p50 %v  p90 %v  p99 %v  max %v\n", l.P50, l.P90, l.P99, l.Max)
	}
	r := a.Resolved
	fmt.Fprintf(w, "resolved: expected %d, received %d, missing %d, unexpected %d\n", r.Expected, r.Received, r.Missing, r.Unexpected)
	if l := r.Latency; l.Count > 0 {
		fmt.Fprintf(w, "publish->resolved latency: p50 %v  p90 %v  p99 %v  max %v\n", l.P50, l.P90, l.P99, l.Max)
	}
	if a.WrongValue+a.Ignored+a.Invalid > 0 {
		fmt.Fprintf(w, "alerts with a wrong value %d, ignored (other devices or types) %d, not alert JSON %d\n",
			a.WrongValue, a.Ignored, a.Invalid)
	}
	for _, typ := range slices.Sorted(maps.Keys(a.MissingByType)) {
		fmt.Fprintf(w, "  %s: %d events missing (firing and resolved)\n", typ, a.MissingByType[typ])
	}
	for _, m := range a.MissingSample {
		fmt.Fprintf(w, "  missing: %s\n", m)
	}
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/borda-edge/borda/internal/bench"
	"github.com/borda-edge/borda/internal/progress"
	"github.com/borda-edge/borda/internal/simulate"
)

const benchUsage = `Usage: borda bench [flags]

Runs benchmark scenarios end to end on this machine: starts borda (this
binary, fresh data directory) and Mosquitto as child processes on free
loopback ports, drives each with the same simulated fleet, checks that
nothing was lost and prints throughput, latency, CPU, memory and disk use
side by side (see internal/bench/README.md). Exit status: 0 every scenario
passed, 1 a scenario failed or lost messages (or was cut short by SIGINT),
2 bad usage.

Flags:
`

// parseBenchFlags reads the command line of borda bench into options.
func parseBenchFlags(args []string, stderr io.Writer) (opts bench.Options, list bool, err error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage); fs.PrintDefaults() }
	fs.StringVar(&opts.Scenarios, "scenarios", "", "comma-separated scenarios to run (default all; --list shows them)")
	fs.BoolVar(&list, "list", false, "list the scenarios and exit")
	fs.IntVar(&opts.Devices, "devices", 1000, "simulated devices")
	fs.IntVar(&opts.Conns, "conns", 8, "publisher connections the devices are spread over (at most --devices)")
	fs.Float64Var(&opts.Rate, "rate", 0, "total messages/s (0 = as fast as each server takes them)")
	fs.DurationVar(&opts.Duration, "duration", 10*time.Second, "how long each scenario publishes")
	fs.StringVar(&opts.Profile, "profile", simulate.ProfileFactory, "device mix: factory, city, vehicles or mixed")
	fs.Int64Var(&opts.Seed, "seed", 1, "seed of the simulated fleet")
	fs.BoolVar(&opts.JSON, "json", false, "print the report as JSON")
	fs.BoolVar(&opts.Keep, "keep", false, "keep the servers' data directories")
	fs.StringVar(&opts.MosquittoBin, "mosquitto", bench.DefaultMosquitto, "Mosquitto executable")
	quiet := fs.Bool("quiet", false, "no progress lines or notes on stderr")
	always := fs.Bool("progress", false, "progress lines on stderr even when it is not a terminal")
	if err := fs.Parse(args); err != nil {
		return opts, false, err
	}
	if fs.NArg() > 0 {
		return opts, false, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if !*quiet {
		opts.Log, opts.Progress = stderr, progress.For(stderr, *always)
		if l, ok := opts.Progress.(*progress.Line); ok {
			opts.Log = l.Notes() // notes clear the progress line first
		}
	}
	return opts, list, nil
}

func cmdBench(args []string, stdout, stderr io.Writer) int {
	opts, list, err := parseBenchFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "borda bench: %v\n", err)
		return 2
	}
	if list {
		for _, sc := range bench.Scenarios() {
			fmt.Fprintf(stdout, "%-18s %s\n", sc.Name, sc.About)
		}
		return 0
	}
	if opts.BordaBin, err = os.Executable(); err != nil {
		fmt.Fprintf(stderr, "borda bench: find this executable: %v\n", err)
		return 1
	}
	opts.BordaVersion = versionString()
	if _, err := opts.Validate(); err != nil {
		fmt.Fprintf(stderr, "borda bench: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal stops the run early (servers stopped, directories
	// removed, the report printed); from then on a second one ends the
	// process at once (the kernel kills the servers).
	context.AfterFunc(ctx, stop)
	rep, err := bench.Run(ctx, opts, stdout)
	progress.Finish(opts.Progress)
	if err != nil {
		fmt.Fprintf(stderr, "borda bench: %v\n", err)
		return 1
	}
	if !rep.OK() {
		return 1
	}
	return 0
}

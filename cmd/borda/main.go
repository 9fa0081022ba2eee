// Command borda is the edge computing gateway: one binary with an MQTT
// broker, time-series store, rules, uplinks and a web dashboard.
//
// This package only parses the command line and wires components together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/borda-edge/borda/internal/auth"
	"github.com/borda-edge/borda/internal/config"
)

// Set with -ldflags "-X main.version=... -X main.commit=..." by release builds.
var (
	version = "dev"
	commit  = ""
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `borda — edge computing gateway

Usage:
  borda [run] [-c FILE] [--log-format text|json] [--log-level LEVEL]
  borda check -c FILE     validate a configuration file and print every problem
  borda simulate [flags]  simulate a device fleet against an MQTT broker (borda simulate -h)
  borda bench [flags]     run benchmark scenarios side by side with Mosquitto (borda bench -h)
  borda passwd [-c] [-b] [-D] [-cost N] FILE USER [PASSWORD]
                          manage MQTT users in a password file (like mosquitto_passwd)
  borda host check|apply|revert|firewall|install-service|uninstall-service|netplan [flags]
                          edge host setup: kernel profile, firewall, systemd unit,
                          netplan (borda host help)
  borda version           print version, commit, Go version and whether vision is compiled in

The configuration file may also be given with BORDA_CONFIG.
Without one, borda runs with defaults (see borda.example.yaml).
`

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "run"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "run":
		return cmdRun(args, stderr)
	case "check":
		return cmdCheck(args, stdout, stderr)
	case "bench":
		return cmdBench(args, stdout, stderr)
	case "simulate":
		return cmdSimulate(args, stdout, stderr)
	case "passwd":
		return runPasswd(args, os.Stdin, stdout, stderr)
	case "host":
		return runHost(args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, versionString())
		return 0
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "borda: unknown command %q\n\n%s", cmd, usage)
	return 2
}

type commonFlags struct {
	configPath string
	logFormat  string
	logLevel   string
}

func parseFlags(name string, args []string, stderr io.Writer) (commonFlags, error) {
	var f commonFlags
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	fs.StringVar(&f.configPath, "c", os.Getenv("BORDA_CONFIG"), "configuration file (default $BORDA_CONFIG)")
	fs.StringVar(&f.configPath, "config", os.Getenv("BORDA_CONFIG"), "configuration file (default $BORDA_CONFIG)")
	fs.StringVar(&f.logFormat, "log-format", "", "text or json (overrides log.format)")
	fs.StringVar(&f.logLevel, "log-level", "", "debug, info, warn or error (overrides log.level)")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return f, nil
}

// loadConfig reads the file named by the flags and applies flag overrides.
func loadConfig(f commonFlags) (config.File, error) {
	cfg, err := config.Load(f.configPath)
	if err != nil {
		return cfg, err
	}
	if f.logFormat != "" {
		cfg.Log.Format = f.logFormat
	}
	if f.logLevel != "" {
		cfg.Log.Level = f.logLevel
	}
	if err := cfg.Log.Validate(); err != nil {
		return cfg, fmt.Errorf("command line: --log-%w", err)
	}
	return cfg, nil
}

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	f, err := parseFlags("check", args, stderr)
	if err != nil {
		return 2
	}
	if f.configPath == "" {
		fmt.Fprintln(stderr, "borda check: no configuration file given (-c FILE or BORDA_CONFIG)")
		return 2
	}
	cfg, err := loadConfig(f)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if cfg.Auth.PasswordFile != "" { // the files a running borda would read
		if _, err := auth.LoadPasswordFile(cfg.Auth.PasswordFile); err != nil {
			fmt.Fprintf(stderr, "%s: auth.password_file: %v\n", f.configPath, err)
			return 1
		}
	}
	fmt.Fprintf(stdout, "%s: configuration is valid\n", f.configPath)
	return 0
}

func cmdRun(args []string, stderr io.Writer) int {
	f, err := parseFlags("run", args, stderr)
	if err != nil {
		return 2
	}
	cfg, err := loadConfig(f)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	g, err := newGateway(cfg, stderr, func() (config.File, error) { return loadConfig(f) })
	if err == nil {
		err = g.Run(ctx)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "borda: %v\n", err)
		return 1
	}
	return 0
}

func versionString() string {
	rev := commit
	if rev == "" {
		rev = "unknown"
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" {
					rev = s.Value
				}
			}
		}
	}
	return fmt.Sprintf("borda %s (commit %s, %s, %s/%s; %s)", version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH, visionBuild)
}

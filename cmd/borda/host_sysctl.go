package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/borda-edge/borda/internal/config"
	"github.com/borda-edge/borda/internal/hostsetup/sysctl"
)

// hostFlags are the flags shared by the `borda host` commands that look at
// or change the machine.
type hostFlags struct {
	configPath string
	root       string
	state      string
	dryRun     bool
	jsonOut    bool
}

// parseHostFlags parses args for command name into f; extra registers the
// command's own flags. Stray arguments are a usage error.
func parseHostFlags(name string, args []string, f *hostFlags, extra func(*flag.FlagSet)) error {
	fs := flag.NewFlagSet("borda host "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&f.configPath, "c", os.Getenv("BORDA_CONFIG"), "configuration file")
	fs.StringVar(&f.root, "root", "/", "root of the host's file system (tests, images)")
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// hostUsageError prints a flag error and the usage: exit status 2 (0 for -h).
func hostUsageError(name string, err error, stdout, stderr io.Writer) int {
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, hostUsage)
		return 0
	}
	fmt.Fprintf(stderr, "borda host %s: %v\n\n%s", name, err, hostUsage)
	return 2
}

// hostConfig loads the configuration named by -c (the defaults without one).
func hostConfig(f hostFlags) (config.File, error) { return config.Load(f.configPath) }

func (f hostFlags) sysctlHost() sysctl.Host { return sysctl.Host{Root: f.root, State: f.state} }

// runHostCheck compares the kernel with the profile. Exit status 0 when
// the host matches, 1 when it does not (or it could not be read).
func runHostCheck(args []string, stdout, stderr io.Writer) int {
	var f hostFlags
	err := parseHostFlags("check", args, &f, func(fs *flag.FlagSet) {
		fs.BoolVar(&f.jsonOut, "json", false, "print the report as JSON")
	})
	if err != nil {
		return hostUsageError("check", err, stdout, stderr)
	}
	cfg, err := hostConfig(f)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	rep, err := f.sysctlHost().Check(context.Background(), cfg.Host.Sysctl.Profile())
	if err != nil {
		fmt.Fprintf(stderr, "borda host check: %v\n", err)
		return 1
	}
	if f.jsonOut {
		err = json.NewEncoder(stdout).Encode(struct {
			sysctl.Report
			Matches bool `json:"matches"`
		}{rep, rep.Matches()})
	} else {
		err = rep.WriteTable(stdout)
	}
	if err != nil || !rep.Matches() {
		return 1
	}
	return 0
}

func runHostApply(args []string, stdout, stderr io.Writer) int {
	var f hostFlags
	err := parseHostFlags("apply", args, &f, func(fs *flag.FlagSet) {
		fs.BoolVar(&f.dryRun, "dry-run", false, "print what would be written, write nothing")
		fs.StringVar(&f.state, "state", "", "state file (default ROOT/var/lib/borda-host/sysctl.json)")
	})
	if err != nil {
		return hostUsageError("apply", err, stdout, stderr)
	}
	cfg, err := hostConfig(f)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	plan, err := f.sysctlHost().Apply(context.Background(), cfg.Host.Sysctl.Profile(), f.dryRun)
	verb := "set"
	if f.dryRun {
		verb = "would set"
		fmt.Fprintf(stdout, "dry run: nothing is written\n--- %s\n%s", plan.Conf, plan.ConfContent)
	}
	for _, c := range plan.Changes {
		fmt.Fprintf(stdout, "%s %s = %s (was %s)\n", verb, c.Key, c.To, c.From)
	}
	if len(plan.Changes) == 0 && err == nil {
		fmt.Fprintln(stdout, "every value already matches the profile")
	}
	if plan.Modules != "" {
		fmt.Fprintf(stdout, "%s %s: tcp_bbr is loaded at boot\n", map[bool]string{true: "would write", false: "wrote"}[f.dryRun], plan.Modules)
	}
	if err != nil {
		fmt.Fprintf(stderr, "borda host apply: %v\n", err)
		if plan.State != "" && !f.dryRun {
			fmt.Fprintf(stderr, "previous values are recorded in %s: borda host revert restores them\n", plan.State)
		}
		return 1
	}
	if !f.dryRun {
		fmt.Fprintf(stdout, "wrote %s; previous values recorded in %s (borda host revert)\n", plan.Conf, plan.State)
	}
	return 0
}

func runHostRevert(args []string, stdout, stderr io.Writer) int {
	var f hostFlags
	err := parseHostFlags("revert", args, &f, func(fs *flag.FlagSet) {
		fs.BoolVar(&f.dryRun, "dry-run", false, "print what would be restored, change nothing")
		fs.StringVar(&f.state, "state", "", "state file (default ROOT/var/lib/borda-host/sysctl.json)")
	})
	if err != nil {
		return hostUsageError("revert", err, stdout, stderr)
	}
	plan, err := f.sysctlHost().Revert(context.Background(), f.dryRun)
	if errors.Is(err, sysctl.ErrNotApplied) {
		fmt.Fprintf(stdout, "borda host revert: %v\n", err)
		return 0
	}
	verb := map[bool]string{true: "would ", false: ""}[f.dryRun]
	for _, c := range plan.Restores {
		fmt.Fprintf(stdout, "%srestore %s = %s (now %s)\n", verb, c.Key, c.To, c.From)
	}
	for _, file := range plan.Files {
		fmt.Fprintf(stdout, "%s%s\n", verb, file)
	}
	for _, n := range plan.Notes {
		fmt.Fprintf(stdout, "note: %s\n", n)
	}
	if err != nil {
		fmt.Fprintf(stderr, "borda host revert: %v\n", err)
		return 1
	}
	return 0
}

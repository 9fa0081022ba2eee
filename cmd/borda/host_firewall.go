package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/borda-edge/borda/internal/config"
	"github.com/borda-edge/borda/internal/hostsetup/firewall"
)

// listeners is every address borda listens on with cfg: the broker's
// listeners (TCP, TLS and WebSocket are all TCP) and the HTTP server, which
// also serves the line-protocol write API, the dashboard and /metrics.
func listeners(cfg config.File) []firewall.Listener {
	var out []firewall.Listener
	for _, l := range cfg.Broker.Listeners {
		name := "broker " + l.Name
		if l.TLS != nil {
			name += " (tls)"
		}
		out = append(out, firewall.Listener{Name: name, Address: l.Address, Port: l.Port, Proto: "tcp"})
	}
	return append(out, firewall.Listener{Name: "http", Address: cfg.HTTP.Address, Port: cfg.HTTP.Port, Proto: "tcp"})
}

type firewallFlags struct {
	hostFlags
	backend string
	output  string
	apply   bool
	revert  bool
}

// runHostFirewall renders the firewall rules for the configured listeners
// plus ssh; --apply loads them (recording what it changes), --revert
// undoes exactly that.
func runHostFirewall(args []string, stdout, stderr io.Writer) int {
	var f firewallFlags
	err := parseHostFlags("firewall", args, &f.hostFlags, func(fs *flag.FlagSet) {
		fs.StringVar(&f.backend, "backend", firewall.BackendNFT, "nftables or ufw")
		fs.StringVar(&f.output, "o", "", "write the ruleset to this file (under --root) instead of standard output")
		fs.BoolVar(&f.apply, "apply", false, "load the rules into the running firewall and keep them across reboots")
		fs.BoolVar(&f.revert, "revert", false, "undo what --apply changed")
		fs.StringVar(&f.state, "state", "", "state file (default ROOT/"+firewall.StatePath+")")
	})
	switch {
	case err != nil:
	case f.backend != firewall.BackendNFT && f.backend != firewall.BackendUFW:
		err = fmt.Errorf("--backend %q is not nftables or ufw", f.backend)
	case f.apply && f.revert:
		err = fmt.Errorf("--apply and --revert exclude each other")
	}
	if err != nil {
		return hostUsageError("firewall", err, stdout, stderr)
	}
	h := firewall.Host{Root: f.root, State: f.state, Runner: firewall.ExecRunner{}, Log: hostLogger(stderr)}
	if f.revert {
		return firewallRevert(h, stdout, stderr)
	}
	cfg, err := hostConfig(f.hostFlags)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	rules, notes, err := firewall.Rules(cfg.Host.Firewall, listeners(cfg))
	if err != nil {
		fmt.Fprintf(stderr, "borda host firewall: %v\n", err)
		return 1
	}
	for _, n := range notes {
		fmt.Fprintf(stderr, "note: %s\n", n)
	}
	if err := f.emit(rules, stdout); err != nil {
		fmt.Fprintf(stderr, "borda host firewall: %v\n", err)
		return 1
	}
	if !f.apply {
		return 0
	}
	done, err := h.Apply(context.Background(), f.backend, rules)
	return report(done, err, "firewall", stdout, stderr)
}

func firewallRevert(h firewall.Host, stdout, stderr io.Writer) int {
	done, err := h.Revert(context.Background())
	if errors.Is(err, firewall.ErrNotApplied) {
		fmt.Fprintf(stdout, "borda host firewall --revert: %v\n", err)
		return 0
	}
	return report(done, err, "firewall", stdout, stderr)
}

// report prints what a command did, one line each, and its error.
func report(done []string, err error, name string, stdout, stderr io.Writer) int {
	for _, d := range done {
		fmt.Fprintln(stdout, d)
	}
	if err != nil {
		fmt.Fprintf(stderr, "borda host %s: %v\n", name, err)
		return 1
	}
	return 0
}

// hostLogger logs the host commands' changes as text on stderr.
func hostLogger(stderr io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// emit writes the rendered rules to -o (under --root) or to stdout.
func (f firewallFlags) emit(rules []firewall.Rule, stdout io.Writer) error {
	out, err := firewall.Render(f.backend, rules)
	if err != nil {
		return err
	}
	if f.output == "" {
		if f.apply {
			return nil // applying says what it did; the ruleset is not printed
		}
		_, err = stdout.Write(out)
		return err
	}
	path := filepath.Join(f.root, f.output)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write ruleset: %w", err)
	}
	if err := writeFileAtomic(path, out); err != nil {
		return fmt.Errorf("write ruleset: %w", err)
	}
	return os.Chmod(path, 0o644)
}

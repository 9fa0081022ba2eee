package main

import (
	"context"
	"flag"
	"fmt"
	"io"
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
}

// runHostFirewall renders (and with --apply loads) the firewall rules for
// the configured listeners plus ssh.
func runHostFirewall(args []string, stdout, stderr io.Writer) int {
	var f firewallFlags
	err := parseHostFlags("firewall", args, &f.hostFlags, func(fs *flag.FlagSet) {
		fs.StringVar(&f.backend, "backend", firewall.BackendNFT, "nftables or ufw")
		fs.StringVar(&f.output, "o", "", "write the ruleset to this file (under --root) instead of standard output")
		fs.BoolVar(&f.apply, "apply", false, "load the rules into the running firewall")
	})
	if err == nil && f.backend != firewall.BackendNFT && f.backend != firewall.BackendUFW {
		err = fmt.Errorf("--backend %q is not nftables or ufw", f.backend)
	}
	if err == nil && f.apply && f.root != "/" {
		err = fmt.Errorf("--apply changes the running firewall and cannot be combined with --root")
	}
	if err != nil {
		return hostUsageError("firewall", err, stdout, stderr)
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
	if err := firewall.Apply(context.Background(), firewall.ExecRunner{}, f.backend, rules); err != nil {
		fmt.Fprintf(stderr, "borda host firewall: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "firewall rules loaded (%s, %d ports)\n", f.backend, len(rules))
	return 0
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

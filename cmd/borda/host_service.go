package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/borda-edge/borda/internal/hostsetup/firewall"
	"github.com/borda-edge/borda/internal/hostsetup/systemd"
)

// runHostInstallService writes the hardened unit (and the netmon drop-in
// when netmon manages routes) under --root, recording what it changes. On
// the real root it also creates the system user and reloads systemd; it
// never starts borda.
func runHostInstallService(args []string, stdout, stderr io.Writer) int {
	var f hostFlags
	o := systemd.Default()
	err := parseHostFlags("install-service", args, &f, func(fs *flag.FlagSet) {
		fs.BoolVar(&f.dryRun, "dry-run", false, "print the files, write nothing")
		fs.StringVar(&f.state, "state", "", "state file (default ROOT/"+systemd.StatePath+")")
		fs.StringVar(&o.Binary, "binary", o.Binary, "path of the borda binary")
		fs.StringVar(&o.Config, "config", o.Config, "configuration file the service reads")
		fs.StringVar(&o.DataDir, "data-dir", o.DataDir, "data directory (under /var/lib)")
		fs.StringVar(&o.User, "user", o.User, "system user borda runs as")
	})
	if err != nil {
		return hostUsageError("install-service", err, stdout, stderr)
	}
	cfg, err := hostConfig(f)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	o.ManageRoutes = cfg.Netmon.Enabled && cfg.Netmon.ManageRoutes
	if f.dryRun {
		acts, err := systemd.Plan(f.root, o)
		if err != nil {
			fmt.Fprintf(stderr, "borda host install-service: %v\n", err)
			return 1
		}
		for _, a := range acts {
			fmt.Fprintf(stdout, "would %s %s\n%s", a.Op, a.Path, a.Data)
		}
		return 0
	}
	done, err := f.installer(stderr).Install(context.Background(), o)
	if err == nil {
		done = append(done, "start it with: systemctl enable --now borda (borda host uninstall-service undoes the install)")
	}
	return report(done, err, "install-service", stdout, stderr)
}

// runHostUninstallService removes what install-service recorded.
func runHostUninstallService(args []string, stdout, stderr io.Writer) int {
	var f hostFlags
	err := parseHostFlags("uninstall-service", args, &f, func(fs *flag.FlagSet) {
		fs.StringVar(&f.state, "state", "", "state file (default ROOT/"+systemd.StatePath+")")
	})
	if err != nil {
		return hostUsageError("uninstall-service", err, stdout, stderr)
	}
	done, err := f.installer(stderr).Uninstall(context.Background())
	if errors.Is(err, systemd.ErrNotInstalled) {
		fmt.Fprintf(stdout, "borda host uninstall-service: %v\n", err)
		return 0
	}
	return report(done, err, "uninstall-service", stdout, stderr)
}

func (f hostFlags) installer(stderr io.Writer) systemd.Installer {
	return systemd.Installer{Root: f.root, State: f.state, Runner: firewall.ExecRunner{}, Log: hostLogger(stderr)}
}

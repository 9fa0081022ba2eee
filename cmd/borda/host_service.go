package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/borda-edge/borda/internal/hostsetup/firewall"
	"github.com/borda-edge/borda/internal/hostsetup/systemd"
)

// runHostInstallService writes the hardened unit (and the netmon drop-in
// when netmon manages routes) under --root. On the real root it also
// creates the system user and reloads systemd; it never starts borda.
func runHostInstallService(args []string, stdout, stderr io.Writer) int {
	var f hostFlags
	o := systemd.Default()
	err := parseHostFlags("install-service", args, &f, func(fs *flag.FlagSet) {
		fs.BoolVar(&f.dryRun, "dry-run", false, "print the files, write nothing")
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
	acts, err := systemd.Plan(f.root, o)
	if err != nil {
		fmt.Fprintf(stderr, "borda host install-service: %v\n", err)
		return 1
	}
	if f.dryRun {
		for _, a := range acts {
			fmt.Fprintf(stdout, "would %s %s\n%s", a.Op, a.Path, a.Data)
		}
		return 0
	}
	ctx := context.Background()
	if err := systemd.Do(ctx, acts); err != nil {
		fmt.Fprintf(stderr, "borda host install-service: %v\n", err)
		return 1
	}
	for _, a := range acts {
		fmt.Fprintf(stdout, "%s %s\n", map[string]string{"write": "wrote", "remove": "removed"}[a.Op], a.Path)
	}
	if err := finishInstall(ctx, f.root, o, firewall.ExecRunner{}, stdout); err != nil {
		fmt.Fprintf(stderr, "borda host install-service: %v\n", err)
		return 1
	}
	return 0
}

// commandRunner runs a program (firewall.ExecRunner in production).
type commandRunner interface {
	LookPath(name string) (string, error)
	Run(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error)
}

// finishInstall creates the user and reloads systemd on the real root; on
// another root it prints those steps instead. A missing tool is reported
// with the command to run by hand.
func finishInstall(ctx context.Context, root string, o systemd.Options, r commandRunner, stdout io.Writer) error {
	has, err := systemd.HasUser(root, o.User)
	if err != nil {
		return err
	}
	steps := [][]string{{"systemctl", "daemon-reload"}}
	if !has {
		steps = append([][]string{systemd.UserAddArgs(o)}, steps...)
	}
	if root != "/" {
		for _, s := range steps {
			fmt.Fprintf(stdout, "then, on the host: %s\n", strings.Join(s, " "))
		}
		return nil
	}
	for _, s := range steps {
		path, err := r.LookPath(s[0])
		if err != nil {
			fmt.Fprintf(stdout, "%s not found (no systemd here?): run by hand: %s\n", s[0], strings.Join(s, " "))
			continue
		}
		if _, err := r.Run(ctx, nil, path, s[1:]...); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "ran %s\n", strings.Join(s, " "))
	}
	fmt.Fprintln(stdout, "start it with: systemctl enable --now borda")
	return nil
}

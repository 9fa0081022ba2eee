package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/borda-edge/borda/internal/config"
	"github.com/borda-edge/borda/internal/hostsetup/netplan"
)

const hostUsage = `Usage:
  borda host check   [-c FILE] [--root DIR] [--json]
  borda host apply   [-c FILE] [--root DIR] [--dry-run] [--state FILE]
  borda host revert  [--root DIR] [--dry-run] [--state FILE]
  borda host firewall [-c FILE] [--backend nftables|ufw] [-o FILE] [--apply|--revert]
                     [--root DIR] [--state FILE]
  borda host install-service [-c FILE] [--root DIR] [--dry-run] [--state FILE] [--binary PATH]
                     [--config PATH] [--data-dir DIR] [--user NAME]
  borda host uninstall-service [--root DIR] [--state FILE]
  borda host netplan [-c FILE] [-o FILE]

check    compare the kernel's settings with the edge profile (the seed's
         99-edge-performance.conf, changed by host.sysctl in borda.yaml):
         key, current, wanted, status; obsolete keys and keys this kernel
         lacks are notes; says whether bbr is available or loadable.
         Exit status 0 when the host matches, 1 when it does not.
apply    write ROOT/etc/sysctl.d/99-borda.conf and set the values under
         ROOT/proc/sys, recording the previous values in the state file first.
revert   restore the recorded values and remove (or restore) the files.
firewall print the nftables ruleset (or ufw commands) opening exactly the
         ports borda listens on with this config, plus ssh (host.firewall);
         -o writes it to a file. --apply records the firewall as it is in
         the state file, then loads the rules: nftables in its own table
         inet borda, kept across reboots by /etc/nftables.d/borda.nft and a
         drop-in for Debian's nftables.service (enabled if it is not); ufw
         by its defaults and one rule per port. --revert undoes exactly
         that (the previous table, ufw rules, defaults and status).
install-service  write ROOT/etc/systemd/system/borda.service (hardened) and,
         when netmon manages routes, the drop-in borda.service.d/netmon.conf
         with CAP_NET_ADMIN/CAP_NET_RAW, recording what it changes; on /
         also create the borda user and run systemctl daemon-reload. It
         does not start borda.
uninstall-service  undo install-service: files restored or removed, the
         user deleted if install-service created it (its files stay).

State files live in ROOT/var/lib/borda-host/ (root only; not borda's data
directory, which the service can write).

  -c FILE     borda.yaml (default $BORDA_CONFIG; without one, the defaults)
  --root DIR  the host's root directory (default /); tests use a fake tree
  --dry-run   print what would be written; write nothing

netplan  render the netplan (v2) YAML for Ethernet + cellular modem from the
         host.netplan section of borda.yaml (keys: ethernet, modem; see
         internal/hostsetup/netplan/README.md), validated; the modem password
         and PIN are read from the files named by modem.password_file and
         modem.pin_file (relative to the config file's directory). A file
         whose top level is ethernet/modem is read as that section alone.

  -c FILE   borda.yaml (default $BORDA_CONFIG; without one, the defaults:
            eth0 by DHCP, no modem) or a standalone netplan input file
  -o FILE   write to FILE atomically with mode 0600 instead of standard output
            (e.g. /etc/netplan/50-borda.yaml); then run 'netplan apply' yourself

Exit status: 0 done (check: the host matches), 1 failure (check: the host
does not match), 2 usage.
`

// runHost is `borda host`: host setup helpers. Nothing changes the host
// without an explicit apply, revert, --apply, --revert, install-service or
// uninstall-service.
func runHost(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "borda host: missing subcommand\n\n%s", hostUsage)
		return 2
	}
	switch args[0] {
	case "netplan":
		return runHostNetplan(args[1:], stdout, stderr)
	case "check":
		return runHostCheck(args[1:], stdout, stderr)
	case "apply":
		return runHostApply(args[1:], stdout, stderr)
	case "revert":
		return runHostRevert(args[1:], stdout, stderr)
	case "firewall":
		return runHostFirewall(args[1:], stdout, stderr)
	case "install-service":
		return runHostInstallService(args[1:], stdout, stderr)
	case "uninstall-service":
		return runHostUninstallService(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, hostUsage)
		return 0
	}
	fmt.Fprintf(stderr, "borda host: unknown subcommand %q\n\n%s", args[0], hostUsage)
	return 2
}

func runHostNetplan(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("borda host netplan", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	input := fs.String("c", os.Getenv("BORDA_CONFIG"), "borda.yaml or netplan input file")
	output := fs.String("o", "", "output file")
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, hostUsage)
		return 0
	}
	switch {
	case err != nil:
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err != nil {
		fmt.Fprintf(stderr, "borda host netplan: %v\n\n%s", err, hostUsage)
		return 2
	}
	out, err := renderNetplanFile(*input)
	if err != nil {
		fmt.Fprintf(stderr, "borda host netplan: %s: %v\n", cmp.Or(*input, "defaults"), err)
		return 1
	}
	if *output == "" {
		if _, err := stdout.Write(out); err != nil {
			fmt.Fprintf(stderr, "borda host netplan: %v\n", err)
			return 1
		}
		return 0
	}
	if err := writeFileAtomic(*output, out); err != nil { // mode 0600: holds the password
		fmt.Fprintf(stderr, "borda host netplan: %v\n", err)
		return 1
	}
	return 0
}

// renderNetplanFile renders the host.netplan section of borda.yaml, or a
// standalone netplan input file (top-level ethernet or modem key). Secret
// files are relative to the file's directory.
func renderNetplanFile(path string) ([]byte, error) {
	var cfg netplan.Config
	if standalone, err := isNetplanInput(path); err != nil {
		return nil, err
	} else if standalone {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if cfg, err = netplan.Decode(f); err != nil {
			return nil, err
		}
	} else {
		file, err := config.Load(path)
		if err != nil {
			return nil, err
		}
		cfg = file.Host.Netplan
	}
	if path != "" {
		cfg.ResolvePaths(filepath.Dir(path))
	}
	return netplan.Render(cfg)
}

// isNetplanInput reports whether path's top level has an ethernet or
// modem key (the standalone input format) rather than borda.yaml's sections.
func isNetplanInput(path string) (bool, error) {
	if path == "" {
		return false, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	var top map[string]any
	if yaml.Unmarshal(b, &top) != nil {
		return false, nil // config.Load reports the syntax error with its line
	}
	_, eth := top["ethernet"]
	_, modem := top["modem"]
	return eth || modem, nil
}

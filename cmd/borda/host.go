package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/borda-edge/borda/internal/hostsetup/netplan"
)

const hostUsage = `Usage:
  borda host netplan -c INPUT.yaml [-o FILE]

netplan  render the netplan (v2) YAML for Ethernet + cellular modem from
         INPUT.yaml (keys: ethernet, modem; see internal/hostsetup/netplan/README.md),
         validated; the modem password and PIN are read from the files named by
         modem.password_file and modem.pin_file (relative to INPUT's directory).

  -c INPUT  the netplan input file (required; unknown keys are errors)
  -o FILE   write to FILE atomically with mode 0600 instead of standard output
            (e.g. /etc/netplan/50-borda.yaml); then run 'netplan apply' yourself

Exit status: 0 done, 1 invalid input or write error, 2 usage.
`

// runHost is `borda host`: host setup helpers. For now only `netplan`,
// which reads its own input file (not yet a section of borda.yaml).
func runHost(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "borda host: missing subcommand\n\n%s", hostUsage)
		return 2
	}
	switch args[0] {
	case "netplan":
		return runHostNetplan(args[1:], stdout, stderr)
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
	input := fs.String("c", "", "input file")
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
	case *input == "":
		err = errors.New("-c INPUT is required")
	}
	if err != nil {
		fmt.Fprintf(stderr, "borda host netplan: %v\n\n%s", err, hostUsage)
		return 2
	}
	out, err := renderNetplanFile(*input)
	if err != nil {
		fmt.Fprintf(stderr, "borda host netplan: %s: %v\n", *input, err)
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

// renderNetplanFile reads, validates and renders one input file.
func renderNetplanFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cfg, err := netplan.Decode(f)
	if err != nil {
		return nil, err
	}
	cfg.ResolvePaths(filepath.Dir(path))
	return netplan.Render(cfg)
}

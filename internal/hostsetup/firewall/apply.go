package firewall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Runner runs the firewall tools: exec in production, a recorder in tests.
type Runner interface {
	LookPath(name string) (string, error)
	Run(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error)
}

// ExecRunner runs programs with os/exec.
type ExecRunner struct{}

// LookPath finds a program in PATH (and /usr/sbin, /sbin, where nft and
// ufw live but a non-root PATH may not reach).
func (ExecRunner) LookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin/", "/sbin/"} {
		if p, err := exec.LookPath(dir + name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w", name, exec.ErrNotFound)
}

// Run runs path with args, stdin as its input; the error includes its output.
func (ExecRunner) Run(ctx context.Context, stdin []byte, path string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s %s: %w: %s", path, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return out, nil
}

// packages names the Debian package of each tool, for the error message.
var packages = map[string]string{"nft": "nftables", "ufw": "ufw"}

// ErrMissingTool is wrapped when the backend's program is not installed.
var ErrMissingTool = errors.New("firewall tool not installed")

// Tool returns the program of a backend, or ErrMissingTool naming the
// Debian package to install.
func Tool(r Runner, backend string) (string, error) {
	name := "nft"
	if backend == BackendUFW {
		name = "ufw"
	}
	p, err := r.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w: %s not found (install the Debian package %s: apt-get install %s)",
			ErrMissingTool, name, packages[name], packages[name])
	}
	return p, nil
}

// Apply loads the rules into the running firewall: for nftables the
// ruleset is checked (`nft -c -f -`) and then loaded (`nft -f -`); for ufw
// the commands of RenderUFW run one by one, stopping at the first error.
func Apply(ctx context.Context, r Runner, backend string, rules []Rule) error {
	tool, err := Tool(r, backend)
	if err != nil {
		return err
	}
	switch backend {
	case BackendNFT:
		set := RenderNFT(rules)
		if _, err := r.Run(ctx, set, tool, "-c", "-f", "-"); err != nil {
			return fmt.Errorf("check nftables ruleset: %w", err)
		}
		if _, err := r.Run(ctx, set, tool, "-f", "-"); err != nil {
			return fmt.Errorf("load nftables ruleset: %w", err)
		}
		return nil
	case BackendUFW:
		cmds := [][]string{{"default", "deny", "incoming"}, {"default", "allow", "outgoing"}}
		cmds = append(append(cmds, UFWArgs(rules)...), []string{"--force", "enable"})
		for _, args := range cmds {
			if _, err := r.Run(ctx, nil, tool, args...); err != nil {
				return fmt.Errorf("apply ufw rules: %w", err)
			}
		}
		return nil
	}
	return fmt.Errorf("firewall backend %q is not %s or %s", backend, BackendNFT, BackendUFW)
}

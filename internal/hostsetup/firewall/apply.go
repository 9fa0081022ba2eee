package firewall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// Runner runs the firewall tools: exec in production, a recorder in tests.
type Runner interface {
	LookPath(name string) (string, error)
	Run(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error)
}

// ExecRunner runs programs with os/exec.
type ExecRunner struct {
	// Dirs, when set, are the only directories programs are looked up in.
	Dirs []string
}

// LookPath finds a program in PATH (and /usr/sbin, /sbin, where nft and
// ufw live but a non-root PATH may not reach).
func (r ExecRunner) LookPath(name string) (string, error) {
	dirs := r.Dirs
	if dirs == nil {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
		dirs = []string{"/usr/sbin", "/sbin"}
	}
	for _, dir := range dirs {
		if p, err := exec.LookPath(filepath.Join(dir, name)); err == nil {
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

package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// StateDir is where `borda host` commands keep their state files, relative
// to the root: root's own (0700), not borda's data directory, which the
// service may write (systemd hands StateDirectory= to its user), since
// revert writes what the state says as root.
const StateDir = "var/lib/borda-host"

// ErrNotApplied is returned by Load when there is no state file: nothing
// to revert.
var ErrNotApplied = errors.New("nothing to revert")

// Load decodes the state file at path into v; ErrNotApplied when there
// is none.
func Load(path string, v any) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: no state file %s", ErrNotApplied, path)
	}
	if err != nil {
		return fmt.Errorf("read state: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode state %s: %w", path, err)
	}
	return nil
}

// Store writes v as the state file at path (mode 0600: it may hold the
// content of files it replaced), creating its directory (0700).
func Store(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("write state: %w", err)
	}
	return WriteAtomic(path, append(b, '\n'), 0o600)
}

// Remove removes the state file once everything is reverted, and
// ROOT/StateDir when no other state file is left in it.
func Remove(root, path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove state: %w", err)
	}
	dir := filepath.Join(root, StateDir)
	if entries, err := os.ReadDir(dir); err == nil && len(entries) == 0 {
		if err := os.Remove(dir); err != nil {
			return fmt.Errorf("remove state directory: %w", err)
		}
	}
	return nil
}

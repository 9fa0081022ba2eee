package firewall

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/borda-edge/borda/internal/hostsetup/record"
)

// Files apply installs so that the nftables rules come back at boot,
// relative to the root. Debian's nftables.service loads /etc/nftables.conf
// (which starts with "flush ruleset"); the drop-in makes it load borda's
// ruleset after it, at start and on reload, and the link enables the
// service when it is not enabled yet (Debian installs it disabled).
const (
	RulesPath  = "etc/nftables.d/borda.nft"
	DropInPath = "etc/systemd/system/nftables.service.d/borda.conf"
	EnablePath = "etc/systemd/system/sysinit.target.wants/nftables.service"
	// StatePath is where apply records what it changed (default).
	StatePath = record.StateDir + "/firewall.json"
)

// nftUnits are where Debian installs nftables.service (before and after
// the /usr merge).
var nftUnits = []string{"lib/systemd/system/nftables.service", "usr/lib/systemd/system/nftables.service"}

// DropIn is nftables.service.d/borda.conf.
func DropIn() []byte {
	return []byte(`# Written by ` + "`borda host firewall --apply`" + `; ` + "`borda host firewall --revert`" + ` removes it.
# Loads borda's table after /etc/nftables.conf (whose "flush ruleset" would
# remove it), at boot and on reload.
[Service]
ExecStart=/usr/sbin/nft -f /` + RulesPath + `
ExecReload=/usr/sbin/nft -f /` + RulesPath + `
`)
}

// ErrNotApplied is returned by Revert when apply recorded nothing.
var ErrNotApplied = record.ErrNotApplied

// Host is the machine the firewall is applied to: files under Root ("/"
// on a real host), the running firewall through Runner (the network
// namespace the command runs in).
type Host struct {
	Root   string
	State  string // state file; default Root/StatePath
	Runner Runner
	Log    *slog.Logger // nil: discarded
}

// state is what apply changed: the files (journal), and per backend what
// the running firewall was like before.
type state struct {
	Backend string `json:"backend"`
	record.Journal
	// NFTTable is `nft list table inet borda` before the first apply; nil
	// when there was no such table.
	NFTTable *string   `json:"nft_table_before"`
	UFW      *ufwState `json:"ufw,omitempty"`
}

func (h Host) root() string {
	if h.Root == "" {
		return "/"
	}
	return h.Root
}

func (h Host) statePath() string {
	if h.State != "" {
		return h.State
	}
	return filepath.Join(h.root(), StatePath)
}

func (h Host) log() *slog.Logger {
	if h.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Log.With("component", "firewall")
}

// load reads the state file, or starts a new one (fresh reports which).
func (h Host) load(backend string) (st *state, fresh bool, err error) {
	st = &state{}
	err = record.Load(h.statePath(), st)
	switch {
	case errors.Is(err, record.ErrNotApplied):
		st, fresh, err = &state{Backend: backend}, true, nil
	case err != nil:
		return nil, false, err
	case backend != "" && st.Backend != backend:
		return nil, false, fmt.Errorf("the firewall was applied with %s (%s): revert it before applying %s",
			st.Backend, h.statePath(), backend)
	}
	st.Journal.Root = h.root()
	st.Journal.Save = func() error { return record.Store(h.statePath(), st) }
	if fresh {
		st.Journal.StateFile(h.statePath())
	}
	return st, fresh, nil
}

// Apply makes the running firewall (and, for nftables, the boot
// configuration) open exactly rules, recording first what it changes.
// Applying again keeps the first record, so revert returns to the
// firewall as it was before borda.
func (h Host) Apply(ctx context.Context, backend string, rules []Rule) ([]string, error) {
	if backend != BackendNFT && backend != BackendUFW {
		return nil, fmt.Errorf("firewall backend %q is not %s or %s", backend, BackendNFT, BackendUFW)
	}
	st, fresh, err := h.load(backend)
	if err != nil {
		return nil, err
	}
	tool, err := Tool(h.Runner, backend)
	if err != nil {
		return nil, err
	}
	if backend == BackendUFW {
		return h.applyUFW(ctx, tool, st, fresh, rules)
	}
	return h.applyNFT(ctx, tool, st, fresh, rules)
}

func (h Host) applyNFT(ctx context.Context, nft string, st *state, fresh bool, rules []Rule) ([]string, error) {
	set := RenderNFT(rules)
	if _, err := h.Runner.Run(ctx, set, nft, "-c", "-f", "-"); err != nil {
		return nil, fmt.Errorf("check nftables ruleset: %w", err)
	}
	if fresh {
		before, err := nftTable(ctx, h.Runner, nft)
		if err != nil {
			return nil, err
		}
		st.NFTTable = before
		if err := st.Journal.Save(); err != nil {
			return nil, err
		}
	}
	done, err := h.persistNFT(st, set)
	if err != nil {
		return done, err
	}
	if _, err := h.Runner.Run(ctx, set, nft, "-f", "-"); err != nil {
		return done, fmt.Errorf("load nftables ruleset: %w", err)
	}
	done = append(done, fmt.Sprintf("loaded table inet borda (%d ports)", len(rules)))
	h.log().Info("firewall applied", "backend", BackendNFT, "ports", len(rules), "state", h.statePath())
	return append(done, h.daemonReload(ctx)...), nil
}

// persistNFT writes the ruleset file and the drop-in and enables
// nftables.service if it is installed and not enabled.
func (h Host) persistNFT(st *state, set []byte) ([]string, error) {
	done := []string{"recorded the previous state in " + h.statePath()}
	for _, f := range []struct {
		rel  string
		data []byte
	}{{RulesPath, set}, {DropInPath, DropIn()}} {
		if err := st.Journal.WriteFile(f.rel, f.data, 0o644); err != nil {
			return done, err
		}
		done = append(done, "wrote "+filepath.Join(h.root(), f.rel))
	}
	unit := ""
	for _, u := range nftUnits {
		if _, err := os.Stat(filepath.Join(h.root(), u)); err == nil {
			unit = "/" + u
			break
		}
	}
	if unit == "" {
		return append(done, "note: nftables.service is not installed (Debian package nftables): the rules are not loaded at boot"), nil
	}
	made, err := st.Journal.Symlink(unit, EnablePath)
	if err != nil {
		return done, err
	}
	if made {
		done = append(done, "enabled nftables.service (linked "+filepath.Join(h.root(), EnablePath)+")")
	}
	return done, nil
}

// nftTable returns `nft list table inet borda`, nil when there is none.
func nftTable(ctx context.Context, r Runner, nft string) (*string, error) {
	out, err := r.Run(ctx, nil, nft, "list", "tables", "inet")
	if err != nil {
		return nil, fmt.Errorf("list nftables tables: %w", err)
	}
	if !strings.Contains("\n"+string(out), "\ntable inet borda\n") {
		return nil, nil
	}
	out, err = r.Run(ctx, nil, nft, "list", "table", "inet", "borda")
	if err != nil {
		return nil, fmt.Errorf("record table inet borda: %w", err)
	}
	s := string(out)
	return &s, nil
}

// daemonReload reloads systemd on a real host (see record.DaemonReload).
func (h Host) daemonReload(ctx context.Context) []string {
	return record.DaemonReload(ctx, h.Runner, h.root())
}

// Revert undoes what apply recorded: the running firewall gets back what
// it had (nftables: the table inet borda as it was, or none; ufw: the
// rules apply added are deleted, defaults and status restored), files are
// restored or removed, the state file goes last. ErrNotApplied when there
// is no state file.
func (h Host) Revert(ctx context.Context) ([]string, error) {
	st, fresh, err := h.load("")
	if err != nil {
		return nil, err
	}
	if fresh {
		return nil, fmt.Errorf("%w: no state file %s", ErrNotApplied, h.statePath())
	}
	tool, err := Tool(h.Runner, st.Backend)
	if err != nil {
		return nil, err
	}
	var done []string
	if st.Backend == BackendUFW {
		done, err = h.revertUFW(ctx, tool, st)
	} else {
		done, err = revertNFT(ctx, h.Runner, tool, st.NFTTable)
	}
	if err != nil { // keep the state: revert can run again
		return done, err
	}
	lines, err := st.Journal.Undo(func() error { return record.Remove(h.root(), h.statePath()) })
	done = append(done, lines...)
	if err != nil {
		return done, err
	}
	h.log().Info("firewall reverted", "backend", st.Backend)
	if len(st.Journal.Files) > 0 {
		done = append(done, h.daemonReload(ctx)...)
	}
	return done, nil
}

// revertNFT puts back the table inet borda that was there before, or
// deletes it.
func revertNFT(ctx context.Context, r Runner, nft string, before *string) ([]string, error) {
	if before != nil {
		set := "table inet borda\ndelete table inet borda\n" + *before
		if _, err := r.Run(ctx, []byte(set), nft, "-f", "-"); err != nil {
			return nil, fmt.Errorf("restore table inet borda: %w", err)
		}
		return []string{"restored the previous table inet borda"}, nil
	}
	now, err := nftTable(ctx, r, nft)
	if err != nil || now == nil {
		return nil, err
	}
	if _, err := r.Run(ctx, nil, nft, "delete", "table", "inet", "borda"); err != nil {
		return nil, fmt.Errorf("delete table inet borda: %w", err)
	}
	return []string{"deleted table inet borda"}, nil
}

package sysctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/borda-edge/borda/internal/hostsetup/record"
)

// ErrNotApplied is returned by Revert when there is no state file.
var ErrNotApplied = errors.New("nothing to revert")

// Change is one value apply writes (or revert restores).
type Change struct {
	Key  string `json:"key"`
	From string `json:"from"`
	To   string `json:"to"`
}

// Plan is what Apply did or, in a dry run, would do.
type Plan struct {
	Conf        string            `json:"conf"`              // the sysctl.d file written
	ConfContent []byte            `json:"-"`                 // its content
	Modules     string            `json:"modules,omitempty"` // modules-load.d file written, if any
	State       string            `json:"state"`             // where previous values are recorded
	Changes     []Change          `json:"changes"`           // values written now
	Skipped     map[string]string `json:"skipped,omitempty"` // key → why it is not written
}

// state is the record revert works from. Values holds the value each key
// had before borda first changed it; ConfBefore/ModulesBefore the files'
// content before (nil: they did not exist).
type state struct {
	Values        []Entry `json:"values"`
	ConfBefore    *string `json:"conf_before"`
	ModulesBefore *string `json:"modules_before"`
}

// Apply makes the host match p: it records the previous values in the
// state file first, writes the sysctl.d file (and modules-load.d for a
// congestion control module), then writes each differing value under
// Root/proc/sys. Obsolete and missing keys are skipped with a note. In a
// dry run nothing is written. Applying twice keeps the first recorded
// values, so revert always returns to the host as it was before borda.
func (h Host) Apply(ctx context.Context, p Profile, dryRun bool) (Plan, error) {
	rep, err := h.Check(ctx, p)
	if err != nil {
		return Plan{}, fmt.Errorf("check before apply: %w", err)
	}
	plan := Plan{Conf: h.ConfPath(), State: h.statePath(), Skipped: map[string]string{}}
	for _, r := range rep.Results {
		switch {
		case r.Status == StatusObsolete || r.Status == StatusMissing:
			plan.Skipped[r.Key] = r.Note
		case r.Key == "net.ipv4.tcp_congestion_control" && !rep.BBR.Available && rep.BBR.Module == "absent":
			plan.Skipped[r.Key] = rep.BBR.Note
		case r.Status == StatusDiffers:
			plan.Changes = append(plan.Changes, Change{r.Key, r.Current, r.Wanted})
		}
	}
	plan.ConfContent = p.Render(plan.Skipped)
	if rep.BBR.Wanted && rep.BBR.Module == "loadable" && plan.Skipped["net.ipv4.tcp_congestion_control"] == "" {
		plan.Modules = h.ModulesPath()
	}
	if dryRun {
		return plan, nil
	}
	if err := h.record(plan); err != nil {
		return plan, err
	}
	if err := writeFileAtomic(plan.Conf, plan.ConfContent); err != nil {
		return plan, err
	}
	if plan.Modules != "" {
		if err := writeFileAtomic(plan.Modules, []byte("tcp_"+rep.BBR.Algorithm+"\n")); err != nil {
			return plan, err
		}
	}
	var errs []error
	for _, c := range plan.Changes {
		if err := h.write(c.Key, c.To); err != nil {
			errs = append(errs, err)
		}
	}
	return plan, errors.Join(errs...)
}

// record adds the plan's previous values to the state file, keeping what
// an earlier apply recorded.
func (h Host) record(plan Plan) error {
	st, err := h.loadState()
	if errors.Is(err, ErrNotApplied) {
		st = &state{}
		if st.ConfBefore, err = readOptional(plan.Conf); err == nil && plan.Modules != "" {
			st.ModulesBefore, err = readOptional(plan.Modules)
		}
	}
	if err != nil {
		return err
	}
	for _, c := range plan.Changes {
		if !slices.ContainsFunc(st.Values, func(e Entry) bool { return e.Key == c.Key }) {
			st.Values = append(st.Values, Entry{c.Key, c.From})
		}
	}
	if err := record.Store(h.statePath(), st); err != nil {
		return fmt.Errorf("sysctl: %w", err)
	}
	return nil
}

func (h Host) loadState() (*state, error) {
	b, err := os.ReadFile(h.statePath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: no state file %s", ErrNotApplied, h.statePath())
	}
	if err != nil {
		return nil, fmt.Errorf("read sysctl state: %w", err)
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("decode sysctl state %s: %w", h.statePath(), err)
	}
	return &st, nil
}

// write sets one kernel value.
func (h Host) write(key, value string) error {
	f, err := os.OpenFile(h.keyPath(key), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("set %s: %w", key, err)
	}
	_, err = f.WriteString(value + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("set %s = %s: %w", key, value, err)
	}
	return nil
}

// readOptional returns a file's content, nil when it does not exist.
func readOptional(path string) (*string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	s := string(b)
	return &s, nil
}

// writeFileAtomic writes data to path (mode 0644, directories made as
// needed) atomically.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	return record.WriteAtomic(path, data, 0o644) //nolint:wrapcheck // names the path
}

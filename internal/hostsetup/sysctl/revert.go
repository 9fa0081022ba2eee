package sysctl

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/borda-edge/borda/internal/hostsetup/record"
)

// RevertPlan is what Revert did or, in a dry run, would do.
type RevertPlan struct {
	State    string   `json:"state"`
	Restores []Change `json:"restores"` // values set back
	Files    []string `json:"files"`    // "remove PATH" or "restore PATH"
	Notes    []string `json:"notes,omitempty"`
}

// Revert undoes every apply since the state file was created: each
// recorded key gets its previous value back (in reverse order), the
// sysctl.d and modules-load.d files are removed (or given back the content
// they had), and the state file is removed last. A key whose current
// value already is the recorded one is left alone. ErrNotApplied when
// there is no state file.
func (h Host) Revert(ctx context.Context, dryRun bool) (RevertPlan, error) {
	st, err := h.loadState()
	if err != nil {
		return RevertPlan{}, err
	}
	plan, files, err := h.planRevert(st)
	if err != nil || dryRun {
		return plan, errors.Join(err, ctx.Err())
	}
	var errs []error
	for _, c := range plan.Restores {
		if err := h.write(c.Key, c.To); err != nil {
			errs = append(errs, err)
		}
	}
	for _, f := range files {
		if err := restoreFile(f.path, f.before); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 { // keep the state: revert can be run again
		return plan, errors.Join(errs...)
	}
	if err := record.Remove(h.root(), h.statePath()); err != nil {
		return plan, fmt.Errorf("sysctl: %w", err)
	}
	return plan, nil
}

// recordedFile is a file apply wrote and its content before (nil: none).
type recordedFile struct {
	path   string
	before *string
}

// planRevert compares the recorded values with the current ones.
func (h Host) planRevert(st *state) (RevertPlan, []recordedFile, error) {
	plan := RevertPlan{State: h.statePath()}
	for i := len(st.Values) - 1; i >= 0; i-- {
		e := st.Values[i]
		cur, ok, err := h.read(e.Key)
		switch {
		case err != nil:
			return plan, nil, err
		case !ok:
			plan.Notes = append(plan.Notes, fmt.Sprintf("%s: no longer on this kernel, not restored", e.Key))
		case cur != e.Value:
			plan.Restores = append(plan.Restores, Change{Key: e.Key, From: cur, To: e.Value})
		}
	}
	files := []recordedFile{{h.ConfPath(), st.ConfBefore}, {h.ModulesPath(), st.ModulesBefore}}
	for _, f := range files {
		if f.before != nil {
			plan.Files = append(plan.Files, "restore "+f.path)
		} else if _, err := os.Stat(f.path); err == nil {
			plan.Files = append(plan.Files, "remove "+f.path)
		}
	}
	return plan, files, nil
}

// restoreFile gives path its previous content, or removes it if it had none.
func restoreFile(path string, before *string) error {
	if before != nil {
		return writeFileAtomic(path, []byte(*before))
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}

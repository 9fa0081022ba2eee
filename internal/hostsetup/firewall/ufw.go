package firewall

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ufwState is ufw as it was before the first apply, and the rules apply
// added (a rule that was there already is not recorded, so revert keeps it).
type ufwState struct {
	Active   bool              `json:"active"`
	Defaults map[string]string `json:"defaults"` // incoming, outgoing, routed → allow, deny or reject
	Added    [][]string        `json:"added"`    // arguments of each `ufw allow ...` that added a rule
}

// ufwDefaultsFile holds ufw's default policies, active or not.
const ufwDefaultsFile = "etc/default/ufw"

// ufwPolicies maps the policy variables of /etc/default/ufw to the
// direction `ufw default` takes.
var ufwPolicies = []struct{ variable, direction string }{
	{"DEFAULT_INPUT_POLICY", "incoming"}, {"DEFAULT_OUTPUT_POLICY", "outgoing"}, {"DEFAULT_FORWARD_POLICY", "routed"},
}

// readUFW records ufw's status (`ufw status`) and default policies
// (ROOT/etc/default/ufw).
func (h Host) readUFW(ctx context.Context, ufw string) (*ufwState, error) {
	out, err := h.Runner.Run(ctx, nil, ufw, "status")
	if err != nil {
		return nil, fmt.Errorf("read ufw status: %w", err)
	}
	st := &ufwState{Active: bytes.HasPrefix(out, []byte("Status: active")), Defaults: map[string]string{}}
	b, err := os.ReadFile(filepath.Join(h.root(), ufwDefaultsFile))
	if err != nil {
		return nil, fmt.Errorf("read ufw default policies: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		for _, p := range ufwPolicies {
			if ok && k == p.variable {
				st.Defaults[p.direction] = map[string]string{"DROP": "deny", "ACCEPT": "allow", "REJECT": "reject"}[strings.Trim(v, `"'`)]
			}
		}
	}
	for _, p := range ufwPolicies {
		if st.Defaults[p.direction] == "" {
			return nil, fmt.Errorf("read ufw default policies: no %s in %s", p.variable, filepath.Join(h.root(), ufwDefaultsFile))
		}
	}
	return st, nil
}

// applyUFW records ufw as it is, then denies incoming by default, allows
// outgoing, allows each rule and enables ufw.
func (h Host) applyUFW(ctx context.Context, ufw string, st *state, fresh bool, rules []Rule) ([]string, error) {
	if fresh || st.UFW == nil {
		before, err := h.readUFW(ctx, ufw)
		if err != nil {
			return nil, err
		}
		st.UFW = before
		if err := st.Journal.Save(); err != nil {
			return nil, err
		}
	}
	done := []string{"recorded the previous state in " + h.statePath()}
	for _, args := range [][]string{{"default", "deny", "incoming"}, {"default", "allow", "outgoing"}} {
		if _, err := h.Runner.Run(ctx, nil, ufw, args...); err != nil {
			return done, fmt.Errorf("apply ufw rules: %w", err)
		}
		done = append(done, "ufw "+strings.Join(args, " "))
	}
	for _, args := range UFWArgs(rules) {
		out, err := h.Runner.Run(ctx, nil, ufw, args...)
		if err != nil {
			return done, fmt.Errorf("apply ufw rules: %w", err)
		}
		if !bytes.Contains(out, []byte("Rule added")) || slices.ContainsFunc(st.UFW.Added, func(a []string) bool { return slices.Equal(a, args) }) {
			done = append(done, "ufw "+strings.Join(args, " ")+" (there already)")
			continue
		}
		st.UFW.Added = append(st.UFW.Added, args)
		if err := st.Journal.Save(); err != nil {
			return done, err
		}
		done = append(done, "ufw "+strings.Join(args, " "))
	}
	if _, err := h.Runner.Run(ctx, nil, ufw, "--force", "enable"); err != nil {
		return done, fmt.Errorf("enable ufw: %w", err)
	}
	h.log().Info("firewall applied", "backend", BackendUFW, "ports", len(rules), "state", h.statePath())
	return append(done, "ufw --force enable"), nil
}

// revertUFW deletes the rules apply added, restores the default policies
// and disables ufw if it was inactive.
func (h Host) revertUFW(ctx context.Context, ufw string, st *state) ([]string, error) {
	if st.UFW == nil {
		return nil, nil
	}
	var done []string
	for i := len(st.UFW.Added) - 1; i >= 0; i-- {
		args := st.UFW.Added[i]
		if c := slices.Index(args, "comment"); c >= 0 {
			args = args[:c] // ufw matches rules without their comment
		}
		args = append([]string{"delete"}, args...)
		if _, err := h.Runner.Run(ctx, nil, ufw, args...); err != nil {
			return done, fmt.Errorf("revert ufw: %w", err)
		}
		done = append(done, "ufw "+strings.Join(args, " "))
	}
	for _, p := range ufwPolicies {
		args := []string{"default", st.UFW.Defaults[p.direction], p.direction}
		if _, err := h.Runner.Run(ctx, nil, ufw, args...); err != nil {
			return done, fmt.Errorf("revert ufw: %w", err)
		}
		done = append(done, "ufw "+strings.Join(args, " "))
	}
	if !st.UFW.Active {
		if _, err := h.Runner.Run(ctx, nil, ufw, "disable"); err != nil {
			return done, fmt.Errorf("revert ufw: %w", err)
		}
		done = append(done, "ufw disable")
	}
	return done, nil
}

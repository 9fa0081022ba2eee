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

// ufwState is ufw as it was before the first apply, and what apply did
// to its rules (a rule that was there already is not recorded, so revert
// keeps it).
type ufwState struct {
	Active   bool              `json:"active"`
	Defaults map[string]string `json:"defaults"` // incoming, outgoing, routed → allow, deny or reject
	Rules    []ufwChange       `json:"rules"`
}

// ufwChange is one `ufw allow ...` that changed ufw's rules: it added a
// rule, or (Previous set) gave an existing rule borda's comment, Previous
// being that rule as `ufw show added` listed it before.
type ufwChange struct {
	Args     []string `json:"args"`
	Previous string   `json:"previous,omitempty"`
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
		line, err := h.allowUFW(ctx, ufw, st, args)
		if err != nil {
			return done, err
		}
		done = append(done, line)
	}
	if _, err := h.Runner.Run(ctx, nil, ufw, "--force", "enable"); err != nil {
		return done, fmt.Errorf("enable ufw: %w", err)
	}
	h.log().Info("firewall applied", "backend", BackendUFW, "ports", len(rules), "state", h.statePath())
	return append(done, "ufw --force enable"), nil
}

// allowUFW runs `ufw allow args` and records what it changed, telling
// the cases apart by `ufw show added` before and after (ufw says "Rules
// updated" for a new rule and for a new comment alike while inactive).
func (h Host) allowUFW(ctx context.Context, ufw string, st *state, args []string) (string, error) {
	before, err := ufwAdded(ctx, h.Runner, ufw)
	if err != nil {
		return "", err
	}
	if _, err := h.Runner.Run(ctx, nil, ufw, args...); err != nil {
		return "", fmt.Errorf("apply ufw rules: %w", err)
	}
	after, err := ufwAdded(ctx, h.Runner, ufw)
	if err != nil {
		return "", err
	}
	added := slices.DeleteFunc(slices.Clone(after), func(l string) bool { return slices.Contains(before, l) })
	removed := slices.DeleteFunc(slices.Clone(before), func(l string) bool { return slices.Contains(after, l) })
	line := "ufw " + strings.Join(args, " ")
	switch {
	case len(added) == 0:
		return line + " (there already)", nil
	case len(removed) == 1:
		st.UFW.Rules = append(st.UFW.Rules, ufwChange{Args: args, Previous: removed[0]})
		line += " (was: " + removed[0] + ")"
	default:
		st.UFW.Rules = append(st.UFW.Rules, ufwChange{Args: args})
	}
	return line, st.Journal.Save()
}

// ufwAdded lists the rules `ufw show added` prints, one "ufw ..." line each.
func ufwAdded(ctx context.Context, r Runner, ufw string) ([]string, error) {
	out, err := r.Run(ctx, nil, ufw, "show", "added")
	if err != nil {
		return nil, fmt.Errorf("list ufw rules: %w", err)
	}
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "ufw ") {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	return lines, nil
}

// splitUFW splits a `ufw show added` line into arguments (without the
// leading "ufw"); single quotes group, as ufw writes comments.
func splitUFW(line string) []string {
	var args []string
	var cur strings.Builder
	quoted, inArg := false, false
	for _, r := range strings.TrimPrefix(line, "ufw ") {
		switch {
		case r == '\'':
			quoted, inArg = !quoted, true
		case r == ' ' && !quoted:
			if inArg {
				args, inArg = append(args, cur.String()), false
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
			inArg = true
		}
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args
}

// revertUFW deletes the rules apply added (gives a rule whose comment it
// changed its comment back), restores the default policies and disables
// ufw if it was inactive.
func (h Host) revertUFW(ctx context.Context, ufw string, st *state) ([]string, error) {
	if st.UFW == nil {
		return nil, nil
	}
	var done []string
	for i := len(st.UFW.Rules) - 1; i >= 0; i-- {
		c := st.UFW.Rules[i]
		args := append([]string{"delete"}, c.Args...)
		if c.Previous != "" {
			args = splitUFW(c.Previous) // gives the rule its comment back
		}
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

package rules

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/expr-lang/expr/vm"

	"github.com/borda-edge/borda/internal/alerts"
)

// rule is a compiled Rule, immutable once built (state and metrics are
// attached by the engine).
type rule struct {
	cfg     Rule // with defaults applied
	name    string
	match   matcher
	cond    *vm.Program
	clear   *vm.Program // nil: resolve when cond is false
	l       *layout
	actions []*alerts.Action
	limit   int
	sig     string // identity for keeping state across reloads

	st *ruleState
	m  ruleMetrics
}

// compileConfig validates c and compiles its rules (inline, then File's).
func compileConfig(c Config) ([]*rule, error) {
	var errs []error
	if c.MaxSeriesPerRule < 1 || c.MaxSeriesPerRule > 10_000_000 {
		errs = append(errs, fmt.Errorf("max_series_per_rule: %d is out of range 1..10000000", c.MaxSeriesPerRule))
	}
	defaults, err := alerts.Compile(c.DefaultActions)
	for _, e := range flatten(err) {
		errs = append(errs, fmt.Errorf("default_%w", e))
	}
	specs := c.Rules
	origins := make([]string, 0, len(c.Rules))
	for i := range c.Rules {
		origins = append(origins, fmt.Sprintf("rules[%d]", i))
	}
	if c.File != "" {
		more, lines, err := loadFile(c.File)
		for _, e := range flatten(err) {
			errs = append(errs, fmt.Errorf("file: %w", e))
		}
		specs = append(slices.Clip(specs), more...)
		for i := range more {
			origins = append(origins, fmt.Sprintf("file: %s:%d: rules[%d]", c.File, lines[i], i))
		}
	}
	out := make([]*rule, 0, len(specs))
	names := map[string]bool{}
	for i, spec := range specs {
		r, rerrs := compileRule(spec, defaults, c.MaxSeriesPerRule)
		for _, e := range rerrs {
			errs = append(errs, fmt.Errorf("%s.%w", origins[i], e))
		}
		if spec.Name != "" && names[spec.Name] {
			errs = append(errs, fmt.Errorf("%s.name: %q is used by another rule", origins[i], spec.Name))
		}
		names[spec.Name] = true
		if r != nil {
			out = append(out, r)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// compileRule checks one rule and compiles it; errors are "key: problem".
func compileRule(spec Rule, defaults []*alerts.Action, limit int) (*rule, []error) {
	r := withDefaults(spec)
	errs := checkRule(r)
	m, merrs := compileMatch(r.Match)
	errs = append(errs, merrs...)
	l := &layout{}
	cond, err := compileCondition("condition", r, r.Condition, l)
	if err != nil {
		errs = append(errs, err)
	}
	clr, err := compileCondition("clear", r, r.Clear, l)
	if err != nil {
		errs = append(errs, err)
	}
	actions := defaults
	if r.Actions != nil {
		var err error
		actions, err = alerts.Compile(r.Actions)
		errs = append(errs, flatten(err)...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return &rule{
		cfg: r, name: r.Name, match: m, cond: cond, clear: clr, l: l,
		actions: actions, limit: limit, sig: signature(r),
	}, nil
}

func compileCondition(key string, r Rule, src string, l *layout) (*vm.Program, error) {
	if strings.TrimSpace(src) == "" {
		if key == "condition" && r.Silent == 0 {
			return nil, errors.New("condition: is required (or silent: for a device-silent rule)")
		}
		return nil, nil
	}
	if r.Silent > 0 {
		return nil, fmt.Errorf("%s: must be empty in a silent rule", key)
	}
	prog, err := compileExpr(src, l, r.EWMAAlpha, false)
	if err != nil {
		return nil, fmt.Errorf("%s: rule %q: %q: %w", key, r.Name, src, err)
	}
	return prog, nil
}

func checkRule(r Rule) []error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if r.Name == "" {
		add("name: is required")
	} else if !validName(r.Name) {
		add("name: %q must be 1 to 128 letters, digits, '_', '.', ':' or '-'", r.Name)
	}
	if r.Type == "" && r.Name != "" {
		add("type: is required (the name %q has no letters or digits to make one)", r.Name)
	} else if r.Type != "" && !validName(r.Type) {
		add("type: %q must be 1 to 128 letters, digits, '_', '.', ':' or '-'", r.Type)
	}
	switch r.Severity {
	case SeverityCritical, SeverityWarning, SeverityInfo:
	default:
		add("severity: %q is not one of critical, warning, info", r.Severity)
	}
	if !(r.EWMAAlpha > 0 && r.EWMAAlpha <= 1) {
		add("ewma_alpha: %v must be greater than 0 and at most 1", r.EWMAAlpha)
	}
	if r.For < 0 {
		add("for: %v is negative", r.For)
	}
	if r.Cooldown < 0 {
		add("cooldown: %v is negative", r.Cooldown)
	}
	switch {
	case r.Silent < 0:
		add("silent: %v is negative", r.Silent)
	case r.Silent > 0 && r.Silent < MinSilent:
		add("silent: %v is shorter than %v", r.Silent, MinSilent)
	case r.Silent > 0 && r.For != 0:
		add("for: must be 0 in a silent rule (silent is its duration)")
	}
	return errs
}

// validName accepts 1 to 128 ASCII letters, digits, '_', '.', ':', '-'.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c == '_' || c == '.' || c == ':' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		if !ok {
			return false
		}
	}
	return true
}

// withDefaults fills in type, severity, field and ewma_alpha.
func withDefaults(r Rule) Rule {
	if r.Severity == "" {
		r.Severity = SeverityWarning
	}
	if r.Field == "" {
		r.Field = "value"
	}
	if r.EWMAAlpha == 0 {
		r.EWMAAlpha = DefaultEWMAAlpha
	}
	if r.Type == "" {
		r.Type = upperSnake(r.Name)
		if r.Silent > 0 {
			r.Type = TypeDeviceOffline
		}
	}
	return r
}

// upperSnake turns a rule name into an alert type: highTemp-1 → HIGH_TEMP_1.
func upperSnake(s string) string {
	var b strings.Builder
	prevLower, sep := false, false
	for _, r := range s {
		alnum := unicode.IsLetter(r) || unicode.IsDigit(r)
		if (!alnum || (unicode.IsUpper(r) && prevLower)) && b.Len() > 0 {
			sep = true
		}
		if alnum {
			if sep {
				b.WriteByte('_')
				sep = false
			}
			b.WriteRune(unicode.ToUpper(r))
		}
		prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
	}
	return b.String()
}

// signature identifies a rule's state: a reload keeps the state of a rule
// whose name, condition, match, field and kind are unchanged.
func signature(r Rule) string {
	keys := make([]string, 0, len(r.Match.Tags))
	for k, v := range r.Match.Tags {
		keys = append(keys, k+"\x00"+v)
	}
	sort.Strings(keys)
	return strings.Join([]string{r.Name, r.Condition, r.Match.Topic, r.Match.Measurement,
		strings.Join(keys, "\x01"), r.Field, fmt.Sprint(r.Silent > 0)}, "\x02")
}

// flatten unpacks errors.Join trees into their leaves.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

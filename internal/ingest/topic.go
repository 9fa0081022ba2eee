package ingest

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// filter is a compiled MQTT topic filter ("sensors/+/temperature", "a/#").
type filter struct {
	levels []string
	fixed  int // levels present in every matching topic (all but a final '#')
}

func parseFilter(s string) (filter, error) {
	invalid := fmt.Errorf("%q is not a valid MQTT topic filter", s)
	if s == "" || len(s) > 65535 || !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return filter{}, invalid
	}
	f := filter{levels: strings.Split(s, "/")}
	for i, l := range f.levels {
		switch {
		case l == "#" && i == len(f.levels)-1:
		case strings.ContainsAny(l, "+#") && l != "+":
			return filter{}, invalid
		}
	}
	f.fixed = len(f.levels)
	if f.levels[f.fixed-1] == "#" {
		f.fixed--
	}
	return f, nil
}

// match reports whether a topic split into levels matches the filter. As
// MQTT requires, a filter starting with a wildcard does not match topics
// starting with '$' ($SYS/...).
func (f *filter) match(levels []string) bool {
	if (f.levels[0] == "+" || f.levels[0] == "#") && strings.HasPrefix(levels[0], "$") {
		return false
	}
	for i, l := range f.levels {
		if l == "#" {
			return true // '#' also matches the parent level: "a/#" matches "a"
		}
		if i >= len(levels) || (l != "+" && l != levels[i]) {
			return false
		}
	}
	return len(levels) == len(f.levels)
}

// checkTopic rejects topic names a client may not publish to.
func checkTopic(topic string) *Rejection {
	if topic == "" || !utf8.ValidString(topic) || strings.ContainsAny(topic, "+#\x00") {
		return reject(ReasonBadTopic, "%q is not a valid MQTT topic name", topic)
	}
	return nil
}

// splitTopic splits topic into levels, using buf when it is large enough.
func splitTopic(topic string, buf []string) []string {
	levels := buf[:0]
	for {
		i := strings.IndexByte(topic, '/')
		if i < 0 {
			return append(levels, topic)
		}
		levels = append(levels, topic[:i])
		topic = topic[i+1:]
	}
}

// template is a compiled measurement template: literal text and topic-level
// references, written {2} (level index) or {metric} (level name).
type template struct {
	parts []tmplPart
}

type tmplPart struct {
	lit   string
	level int // -1 for a literal part
}

// parseTemplate compiles s. names maps level names to indexes; every
// referenced level must be below fixed (present in every matching topic).
func parseTemplate(s string, names map[string]int, fixed int) (template, error) {
	var t template
	for s != "" {
		open := strings.IndexAny(s, "{}")
		if open < 0 {
			t.parts = append(t.parts, tmplPart{lit: s, level: -1})
			break
		}
		if s[open] == '}' {
			return template{}, errors.New("unmatched '}'")
		}
		if open > 0 {
			t.parts = append(t.parts, tmplPart{lit: s[:open], level: -1})
		}
		end := strings.IndexByte(s[open:], '}')
		if end < 0 {
			return template{}, errors.New("unmatched '{'")
		}
		ref := s[open+1 : open+end]
		idx, err := levelRef(ref, names, fixed)
		if err != nil {
			return template{}, err
		}
		t.parts = append(t.parts, tmplPart{level: idx})
		s = s[open+end+1:]
	}
	return t, nil
}

func levelRef(ref string, names map[string]int, fixed int) (int, error) {
	idx, ok := names[ref]
	if !ok {
		if ref == "" || skipDigits([]byte(ref), 0) != len(ref) || len(ref) > 4 {
			return 0, fmt.Errorf("{%s} names no topic level", ref)
		}
		idx = 0
		for _, c := range ref {
			idx = idx*10 + int(c-'0')
		}
	}
	if idx >= fixed {
		return 0, fmt.Errorf("{%s} is level %d, not present in every matching topic", ref, idx)
	}
	return idx, nil
}

// levels returns the topic levels the template uses.
func (t template) levels() []int {
	var out []int
	for _, p := range t.parts {
		if p.level >= 0 {
			out = append(out, p.level)
		}
	}
	return out
}

func (t template) expand(levels []string) string {
	if len(t.parts) == 1 {
		if p := t.parts[0]; p.level >= 0 {
			return levels[p.level]
		}
		return t.parts[0].lit
	}
	n := 0
	for _, p := range t.parts {
		if p.level >= 0 {
			n += len(levels[p.level])
		} else {
			n += len(p.lit)
		}
	}
	var sb strings.Builder
	sb.Grow(n)
	for _, p := range t.parts {
		if p.level >= 0 {
			sb.WriteString(levels[p.level])
		} else {
			sb.WriteString(p.lit)
		}
	}
	return sb.String()
}

// Filters is a compiled set of MQTT topic filters, for callers that need
// the same matching rules as the router (the ingest subscriptions).
type Filters []filter

// ParseFilters compiles filters; the error names the first invalid one.
func ParseFilters(ss []string) (Filters, error) {
	fs := make(Filters, 0, len(ss))
	for _, s := range ss {
		f, err := parseFilter(s)
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
	}
	return fs, nil
}

// Match reports whether topic matches any filter. It does not allocate
// for topics of up to 16 levels.
func (fs Filters) Match(topic string) bool {
	var buf [16]string
	levels := splitTopic(topic, buf[:])
	for i := range fs {
		if fs[i].match(levels) {
			return true
		}
	}
	return false
}

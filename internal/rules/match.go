package rules

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/borda-edge/borda/internal/telemetry"
)

// matcher is a compiled Match.
type matcher struct {
	filter      []string // topic filter levels; nil: any topic
	measurement string
	tags        []tagMatcher
}

type tagOp uint8

const (
	opEqual tagOp = iota
	opNotEqual
	opRegexp
	opNotRegexp
)

type tagMatcher struct {
	key   string
	op    tagOp
	value string
	re    *regexp.Regexp
}

// compileMatch checks m; errors are prefixed with their key under match.
func compileMatch(m Match) (matcher, []error) {
	var errs []error
	out := matcher{measurement: m.Measurement}
	if m.Topic == "" && m.Measurement == "" {
		errs = append(errs, errors.New(`match: needs a topic or a measurement (topic: "#" matches every reading from MQTT)`))
	}
	if m.Topic != "" {
		if err := validFilter(m.Topic); err != nil {
			errs = append(errs, fmt.Errorf("match.topic: %q %w", m.Topic, err))
		}
		out.filter = strings.Split(m.Topic, "/")
	}
	keys := make([]string, 0, len(m.Tags))
	for k := range m.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		tm, err := compileTag(k, m.Tags[k])
		if err != nil {
			errs = append(errs, fmt.Errorf("match.tags.%s: %w", k, err))
			continue
		}
		out.tags = append(out.tags, tm)
	}
	return out, errs
}

func compileTag(key, v string) (tagMatcher, error) {
	if key == "" {
		return tagMatcher{}, errors.New("the tag name is empty")
	}
	tm := tagMatcher{key: key, value: v}
	var pattern string
	switch {
	case strings.HasPrefix(v, "=~"):
		tm.op, pattern = opRegexp, v[2:]
	case strings.HasPrefix(v, "!~"):
		tm.op, pattern = opNotRegexp, v[2:]
	case strings.HasPrefix(v, "!="):
		tm.op, tm.value = opNotEqual, v[2:]
		return tm, nil
	default:
		return tm, nil
	}
	re, err := regexp.Compile("^(?:" + pattern + ")$")
	if err != nil {
		return tagMatcher{}, fmt.Errorf("%q is not a valid regular expression: %w", pattern, err)
	}
	tm.re = re
	return tm, nil
}

// validFilter checks an MQTT topic filter.
func validFilter(f string) error {
	if !utf8.ValidString(f) || strings.ContainsRune(f, 0) {
		return errors.New("is not valid UTF-8 without NUL")
	}
	levels := strings.Split(f, "/")
	for i, l := range levels {
		if strings.Contains(l, "#") && (l != "#" || i != len(levels)-1) {
			return errors.New("is not a valid topic filter: # must be a whole, last level")
		}
		if strings.Contains(l, "+") && l != "+" {
			return errors.New("is not a valid topic filter: + must be a whole level")
		}
	}
	return nil
}

func (m *matcher) matches(topic string, p *telemetry.Point) bool {
	if m.measurement != "" && p.Measurement != m.measurement {
		return false
	}
	if m.filter != nil && !topicMatches(m.filter, topic) {
		return false
	}
	for i := range m.tags {
		if !m.tags[i].matches(p) {
			return false
		}
	}
	return true
}

func (t *tagMatcher) matches(p *telemetry.Point) bool {
	v, _ := p.Tag(t.key)
	switch t.op {
	case opNotEqual:
		return v != t.value
	case opRegexp:
		return t.re.MatchString(v)
	case opNotRegexp:
		return !t.re.MatchString(v)
	}
	return v == t.value
}

// topicMatches matches a topic against filter levels without allocating,
// with MQTT's rules: + is one level (possibly empty), # the parent and
// every level below, and wildcards at the first level do not match topics
// starting with $.
func topicMatches(filter []string, topic string) bool {
	if topic == "" {
		return false
	}
	if topic[0] == '$' && (filter[0] == "+" || filter[0] == "#") {
		return false
	}
	rest := topic
	for i, f := range filter {
		if f == "#" {
			return true
		}
		j := strings.IndexByte(rest, '/')
		level := rest
		if j >= 0 {
			level = rest[:j]
		}
		if f != "+" && f != level {
			return false
		}
		if j < 0 { // the topic ends here
			return i == len(filter)-1 || (i == len(filter)-2 && filter[i+1] == "#")
		}
		rest = rest[j+1:]
	}
	return false
}

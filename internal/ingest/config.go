package ingest

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Payload formats of a mapping.
const (
	// FormatJSON: a JSON object, or a bare number or boolean (the default).
	FormatJSON = "json"
	// FormatNumber: a bare number or boolean only.
	FormatNumber = "number"
	// FormatInflux: InfluxDB line protocol; the measurement comes from each line.
	FormatInflux = "influx"
	// FormatAuto: a JSON object when the payload starts with '{', else a
	// bare number or boolean, else line protocol when it contains '='.
	FormatAuto = "auto"
)

// Config is the ingest block of the borda configuration file.
type Config struct {
	// MaxPayloadBytes rejects larger payloads as too_large.
	MaxPayloadBytes int `yaml:"max_payload_bytes"`
	// Convention appends ConventionMapping after Mappings, so the
	// <device_type>/<device_id>/<metric> topics work with zero config.
	Convention bool `yaml:"convention"`
	// Mappings are tried in order; the first whose topic filter matches wins.
	Mappings []Mapping `yaml:"mappings"`
}

// Mapping turns the messages of one topic filter into points.
type Mapping struct {
	// Topic is an MQTT topic filter with + and # wildcards.
	Topic string `yaml:"topic"`
	// Levels names topic levels by position ("" leaves a level unnamed), for
	// Measurement and TopicTags. Only levels before a '#' can be named.
	Levels []string `yaml:"levels"`
	// Measurement is a template of literal text and {name} or {index}
	// references to topic levels, e.g. "{device_type}_{metric}" or "{0}_{2}".
	// Required unless Format is influx, where each line names its own.
	Measurement string `yaml:"measurement"`
	// TopicTags are level names whose topic level becomes a tag. They win
	// over tags of the same key from the payload.
	TopicTags []string `yaml:"topic_tags"`
	// Format is json (default when empty), number, influx or auto.
	Format string `yaml:"format"`
	// Precision of line-protocol timestamps: ns (default), us, ms or s.
	Precision string `yaml:"precision"`
	// Fields declares JSON paths read as fields, mapped to a field name (""
	// → the path with '.' replaced by '_'). Top-level numbers are always
	// fields; a path is needed for nested numbers or to rename a field.
	Fields map[string]string `yaml:"fields"`
	// Tags declares JSON paths of string members that become tags, keyed by
	// the path with '.' replaced by '_'. Other strings are ignored.
	Tags []string `yaml:"tags"`
	// TagDefaults are added to a point that lacks the tag.
	TagDefaults map[string]string `yaml:"tag_defaults"`
	// FieldDefaults are added to a point that lacks the field. They do not
	// make an object without numeric fields acceptable.
	FieldDefaults map[string]float64 `yaml:"field_defaults"`
}

// DefaultConfig returns the zero-config setup: 1 MiB payloads, the topic
// convention, no other mappings.
func DefaultConfig() Config {
	return Config{MaxPayloadBytes: 1 << 20, Convention: true}
}

// ConventionMapping is borda's default topic convention:
// <device_type>/<device_id>/<metric> (exactly three levels) with a JSON
// object such as {"value":23.5,"location":"hall","quality":0.9} or a bare
// number → measurement <device_type>_<metric>, tags device_type, device_id
// and location ("unknown" when absent), fields value, quality (1 when
// absent) and every other top-level number.
func ConventionMapping() Mapping {
	return Mapping{
		Topic:         "+/+/+",
		Levels:        []string{"device_type", "device_id", "metric"},
		Measurement:   "{device_type}_{metric}",
		TopicTags:     []string{"device_type", "device_id"},
		Format:        FormatJSON,
		Tags:          []string{"location"},
		TagDefaults:   map[string]string{"location": "unknown"},
		FieldDefaults: map[string]float64{"quality": 1},
	}
}

// mappings returns the effective mapping list.
func (c Config) mappings() []Mapping {
	if !c.Convention {
		return c.Mappings
	}
	return append(slices.Clip(c.Mappings), ConventionMapping())
}

// Validate reports every problem of the configuration, each message starting
// with the path of the offending setting (e.g. "mappings[1].topic: ...").
func (c Config) Validate() error {
	var errs []error
	if c.MaxPayloadBytes <= 0 {
		errs = append(errs, fmt.Errorf("max_payload_bytes: must be > 0, got %d", c.MaxPayloadBytes))
	}
	seen := map[string]int{}
	for i := range c.Mappings {
		m := &c.Mappings[i]
		at := fmt.Sprintf("mappings[%d]", i)
		if j, dup := seen[m.Topic]; dup {
			errs = append(errs, fmt.Errorf("%s.topic: %q repeats mappings[%d].topic and would never match", at, m.Topic, j))
		}
		seen[m.Topic] = i
		errs = append(errs, m.validate(at)...)
	}
	return errors.Join(errs...)
}

func (m *Mapping) validate(at string) []error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", at, field, fmt.Sprintf(format, args...)))
	}
	f, err := parseFilter(m.Topic)
	if err != nil {
		add("topic", "%v", err)
	}
	names := levelNames(m.Levels, f.fixed, err == nil, add)
	format := m.format()
	switch format {
	case FormatJSON, FormatNumber, FormatAuto:
		if m.Measurement == "" {
			add("measurement", "required for format %s", format)
		} else if _, terr := parseTemplate(m.Measurement, names, f.fixed); terr != nil && err == nil {
			add("measurement", "%q: %v", m.Measurement, terr)
		}
	case FormatInflux:
		if m.Measurement != "" {
			add("measurement", "must be empty for format influx (each line names its measurement)")
		}
	default:
		add("format", "%q is not one of json, number, influx, auto", m.Format)
	}
	if _, perr := parsePrecision(m.Precision); perr != nil {
		add("precision", "%v", perr)
	} else if m.Precision != "" && format != FormatInflux && format != FormatAuto {
		add("precision", "only applies to format influx or auto")
	}
	for i, t := range m.TopicTags {
		if _, ok := names[t]; !ok {
			add(fmt.Sprintf("topic_tags[%d]", i), "%q is not a name in levels", t)
		}
	}
	m.validatePaths(add)
	return errs
}

func (m *Mapping) format() string {
	if m.Format == "" {
		return FormatJSON
	}
	return m.Format
}

// levelNames checks Levels and returns name → level index.
func levelNames(levels []string, fixed int, filterOK bool, add func(string, string, ...any)) map[string]int {
	names := map[string]int{}
	for i, n := range levels {
		field := fmt.Sprintf("levels[%d]", i)
		switch {
		case n == "":
			continue
		case !isIdentifier(n):
			add(field, "%q must be letters, digits and '_', not starting with a digit", n)
		case filterOK && i >= fixed:
			add(field, "%q names level %d, but the topic filter has only %d fixed levels", n, i, fixed)
		}
		if j, dup := names[n]; dup {
			add(field, "%q already names level %d", n, j)
		}
		names[n] = i
	}
	return names
}

func (m *Mapping) validatePaths(add func(string, string, ...any)) {
	if len(m.Fields)+len(m.Tags) > 0 && m.format() != FormatJSON && m.format() != FormatAuto {
		add("fields", "fields and tags declare JSON paths; format %s is not JSON", m.format())
	}
	for _, path := range sortedKeys(m.Fields) {
		field := fmt.Sprintf("fields[%q]", path)
		if err := checkPath(path); err != nil {
			add(field, "%v", err)
		}
	}
	tagKeys := map[string]bool{}
	for i, path := range m.Tags {
		field := fmt.Sprintf("tags[%d]", i)
		if err := checkPath(path); err != nil {
			add(field, "%v", err)
		} else if key := defaultFieldName(path); tagKeys[key] {
			add(field, "%q declares tag %q twice", path, key)
		} else {
			tagKeys[key] = true
		}
	}
	for _, k := range sortedKeys(m.TagDefaults) {
		if k == "" || m.TagDefaults[k] == "" {
			add(fmt.Sprintf("tag_defaults[%q]", k), "key and value must not be empty")
		}
	}
	for _, k := range sortedKeys(m.FieldDefaults) {
		if v := m.FieldDefaults[k]; k == "" || math.IsNaN(v) || math.IsInf(v, 0) {
			add(fmt.Sprintf("field_defaults[%q]", k), "key must not be empty and value must be finite")
		}
	}
}

// checkPath checks a declared JSON path: dot-separated non-empty member
// names, not a timestamp member.
func checkPath(path string) error {
	if path == "" || path[0] == '.' || path[len(path)-1] == '.' || containsEmptySegment(path) {
		return fmt.Errorf("%q has an empty path segment", path)
	}
	if isTimeKey([]byte(path)) {
		return fmt.Errorf("%q is the timestamp member and never a field or tag", path)
	}
	return nil
}

func containsEmptySegment(path string) bool {
	for i := 1; i < len(path); i++ {
		if path[i] == '.' && path[i-1] == '.' {
			return true
		}
	}
	return false
}

func isIdentifier(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return s != ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func parsePrecision(s string) (time.Duration, error) {
	switch s {
	case "", "ns":
		return time.Nanosecond, nil
	case "us":
		return time.Microsecond, nil
	case "ms":
		return time.Millisecond, nil
	case "s":
		return time.Second, nil
	}
	return 0, fmt.Errorf("%q is not one of ns, us, ms, s", s)
}

package ingest

import (
	"strings"
	"time"

	"github.com/borda-edge/borda/internal/telemetry"
)

// JSON object payloads.
//
// The decoder is a hand-written single pass over the bytes (no reflection,
// no map[string]any): it checks the whole document against RFC 8259 and
// picks out what the mapping wants:
//
//   - every top-level number becomes a field named after its key (renamed
//     when the key is declared in Mapping.Fields); booleans become 1 and 0;
//   - nested objects are read only along declared paths ("gps.lat" becomes
//     the field "gps_lat" unless Mapping.Fields names it); anything else
//     nested, and every array, is skipped;
//   - strings become tags only at declared paths (Mapping.Tags); other
//     strings, nulls and empty keys are ignored;
//   - the top-level "ts", "time" and "timestamp" members set the point time
//     (see timestamp.go) and are never fields.
//
// Strings must be valid UTF-8 and nesting may not exceed maxJSONDepth; a
// document that breaks either rule, or is not JSON, is bad_json. Duplicate
// keys keep the first position and the last value, as encoding/json does.

const maxJSONDepth = 64

// jsonSpec is the compiled form of a mapping's declared paths.
type jsonSpec struct {
	root   pathNode
	intern map[string]string // field names that need no allocation
}

type pathNode struct {
	children map[string]*pathNode
	field    string // field name when this path is a declared field
	tag      string // tag key when this path is a declared string tag
}

func (n *pathNode) child(key []byte) *pathNode {
	if n == nil {
		return nil
	}
	return n.children[string(key)]
}

// newJSONSpec compiles declared field paths (path → name, "" for the
// default name) and tag paths. Paths are assumed valid (see Validate).
func newJSONSpec(fields map[string]string, tags []string, names []string) *jsonSpec {
	s := &jsonSpec{intern: map[string]string{}}
	for path, name := range fields {
		if name == "" {
			name = defaultFieldName(path)
		}
		s.node(path).field = name
		s.intern[name] = name
	}
	for _, path := range tags {
		s.node(path).tag = defaultFieldName(path)
	}
	for _, n := range names {
		s.intern[n] = n
	}
	return s
}

func defaultFieldName(path string) string { return strings.ReplaceAll(path, ".", "_") }

func (s *jsonSpec) node(path string) *pathNode {
	n := &s.root
	for _, seg := range strings.Split(path, ".") {
		c := n.children[seg]
		if c == nil {
			c = &pathNode{}
			if n.children == nil {
				n.children = map[string]*pathNode{}
			}
			n.children[seg] = c
		}
		n = c
	}
	return n
}

func (s *jsonSpec) name(key []byte) string {
	if n, ok := s.intern[string(key)]; ok {
		return n
	}
	return string(key)
}

// jsonDecoder holds the state of one decodeJSONObject call.
type jsonDecoder struct {
	b       []byte
	i       int
	spec    *jsonSpec
	p       telemetry.Point // copied in and out, so that *p stays on the stack
	numeric int
	ts      time.Time
	hasTS   bool
	// rej is the first problem that is not a syntax error; it is returned
	// only once the whole document is known to be JSON, so that a payload
	// that is not JSON is always bad_json.
	rej *Rejection
}

// decodeJSONObject decodes the object in b into p's fields and tags and
// returns the payload's timestamp, or received when it has none.
func decodeJSONObject(b []byte, spec *jsonSpec, p *telemetry.Point, received time.Time) (time.Time, *Rejection) {
	d := jsonDecoder{b: b, spec: spec, p: *p}
	defer func() { *p = d.p }()
	d.skipSpace()
	if d.i >= len(b) || b[d.i] != '{' {
		return time.Time{}, d.syntax("expected '{'")
	}
	if rej := d.object(&spec.root, 1); rej != nil {
		return time.Time{}, rej
	}
	d.skipSpace()
	if d.i != len(b) {
		return time.Time{}, d.syntax("data after the top-level object")
	}
	if d.rej != nil {
		return time.Time{}, d.rej
	}
	if d.numeric == 0 {
		return time.Time{}, reject(ReasonNoNumericField, "JSON object has no numeric field")
	}
	d.p.Fields = dedupeFields(d.p.Fields)
	if d.hasTS {
		return d.ts, nil
	}
	return received, nil
}

// object reads the object at d.i. node is the declared-path node of the
// object, nil when nothing inside it is wanted (the object is only checked).
func (d *jsonDecoder) object(node *pathNode, depth int) *Rejection {
	if depth > maxJSONDepth {
		return reject(ReasonBadJSON, "nesting deeper than %d", maxJSONDepth)
	}
	d.i++ // '{'
	d.skipSpace()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return nil
	}
	for {
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return d.syntax("expected a string key")
		}
		key, esc, rej := d.str()
		if rej != nil {
			return rej
		}
		if esc && node != nil {
			key = unescape(key)
		}
		d.skipSpace()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return d.syntax("expected ':'")
		}
		d.i++
		d.skipSpace()
		if rej := d.member(node, key, depth); rej != nil {
			return rej
		}
		if done, rej := d.next('}'); done || rej != nil {
			return rej
		}
	}
}

// next consumes the separator after a member or element: ',' (more to come)
// or the closing byte.
func (d *jsonDecoder) next(closing byte) (bool, *Rejection) {
	d.skipSpace()
	if d.i < len(d.b) {
		switch d.b[d.i] {
		case ',':
			d.i++
			d.skipSpace()
			return false, nil
		case closing:
			d.i++
			return true, nil
		}
	}
	return true, d.syntax("expected ',' or '" + string(closing) + "'")
}

// array checks the array at d.i; its contents are never used.
func (d *jsonDecoder) array(depth int) *Rejection {
	if depth > maxJSONDepth {
		return reject(ReasonBadJSON, "nesting deeper than %d", maxJSONDepth)
	}
	d.i++ // '['
	d.skipSpace()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return nil
	}
	for {
		if rej := d.member(nil, nil, depth); rej != nil {
			return rej
		}
		if done, rej := d.next(']'); done || rej != nil {
			return rej
		}
	}
}

// member reads the value at d.i, the member key of the object whose
// declared-path node is parent (nil: ignore the value, only check it).
func (d *jsonDecoder) member(parent *pathNode, key []byte, depth int) *Rejection {
	if d.i >= len(d.b) {
		return d.syntax("unexpected end of input")
	}
	isTime := parent == &d.spec.root && isTimeKey(key)
	switch c := d.b[d.i]; {
	case c == '{':
		if isTime {
			d.note(reject(ReasonBadTimestamp, "timestamp %q is an object", key))
			return d.object(nil, depth+1)
		}
		return d.object(parent.child(key), depth+1)
	case c == '[':
		if isTime {
			d.note(reject(ReasonBadTimestamp, "timestamp %q is an array", key))
		}
		return d.array(depth + 1)
	case c == '"':
		return d.stringMember(parent, key, isTime)
	case c == 't' || c == 'f' || c == 'n':
		return d.literal(parent, key, isTime)
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number(parent, key, isTime)
	}
	return d.syntax("unexpected character")
}

func (d *jsonDecoder) stringMember(parent *pathNode, key []byte, isTime bool) *Rejection {
	raw, esc, rej := d.str()
	if rej != nil || parent == nil {
		return rej
	}
	if isTime {
		if esc {
			raw = unescape(raw)
		}
		d.setTime(stringTime(raw))
		return nil
	}
	if c := parent.child(key); c != nil && c.tag != "" && len(raw) > 0 {
		if esc {
			raw = unescape(raw)
		}
		d.p.SetTag(c.tag, string(raw))
	}
	return nil
}

func (d *jsonDecoder) literal(parent *pathNode, key []byte, isTime bool) *Rejection {
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(d.b)-d.i < len(lit) || string(d.b[d.i:d.i+len(lit)]) != lit {
			continue
		}
		d.i += len(lit)
		switch {
		case lit == "null":
		case isTime:
			d.note(reject(ReasonBadTimestamp, "timestamp %q is a boolean", key))
		default:
			if name, ok := d.fieldName(parent, key); ok {
				v := 0.0
				if lit == "true" {
					v = 1
				}
				d.addField(name, v)
			}
		}
		return nil
	}
	return d.syntax("invalid literal")
}

func (d *jsonDecoder) number(parent *pathNode, key []byte, isTime bool) *Rejection {
	end := scanJSONNumber(d.b, d.i)
	if end < 0 {
		return d.syntax("invalid number")
	}
	lit := d.b[d.i:end]
	d.i = end
	if parent == nil {
		return nil
	}
	if isTime {
		d.setTime(numberTime(lit))
		return nil
	}
	if name, ok := d.fieldName(parent, key); ok {
		v, rej := parseFloat(lit)
		if rej != nil {
			d.note(rej)
			return nil
		}
		d.addField(name, v)
	}
	return nil
}

func (d *jsonDecoder) setTime(t time.Time, rej *Rejection) {
	if rej == nil {
		d.ts, d.hasTS = t, true
	}
	d.note(rej)
}

// note records the first non-syntax problem.
func (d *jsonDecoder) note(rej *Rejection) {
	if d.rej == nil {
		d.rej = rej
	}
}

// fieldName returns the field a number at key of the object of parent is
// stored as: its declared name, or the key itself at the top level.
func (d *jsonDecoder) fieldName(parent *pathNode, key []byte) (string, bool) {
	if c := parent.child(key); c != nil && c.field != "" {
		return c.field, true
	}
	if parent == &d.spec.root && len(key) > 0 {
		return d.spec.name(key), true
	}
	return "", false
}

func (d *jsonDecoder) addField(name string, v float64) {
	d.p.Fields = append(d.p.Fields, telemetry.Field{Key: name, Value: v})
	d.numeric++
}

func (d *jsonDecoder) skipSpace() {
	for d.i < len(d.b) && isSpace(d.b[d.i]) {
		d.i++
	}
}

func (d *jsonDecoder) syntax(msg string) *Rejection {
	if d.i >= len(d.b) {
		return reject(ReasonBadJSON, "%s at end of input (truncated?)", msg)
	}
	return reject(ReasonBadJSON, "%s at offset %d", msg, d.i)
}

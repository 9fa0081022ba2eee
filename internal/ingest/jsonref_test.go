package ingest

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"strconv"

	"github.com/borda-edge/borda/internal/telemetry"
)

// refDecodeJSON is an independent, slow implementation of decodeJSONObject
// on top of encoding/json's token stream, used as the fuzzing oracle. It
// returns the point and the reason of the first problem in document order.
func refDecodeJSON(payload []byte, spec *jsonSpec) (telemetry.Point, string) {
	if !json.Valid(payload) {
		return telemetry.Point{}, ReasonBadJSON
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if tok, _ := dec.Token(); tok != json.Delim('{') {
		return telemetry.Point{}, ReasonBadJSON
	}
	r := refDecoder{dec: dec, spec: spec, p: telemetry.Point{Time: recv}}
	r.object(&spec.root, true)
	if _, err := dec.Token(); err != io.EOF {
		return telemetry.Point{}, ReasonBadJSON
	}
	if r.reason == "" && r.numeric == 0 {
		r.reason = ReasonNoNumericField
	}
	if r.reason != "" {
		return telemetry.Point{}, r.reason
	}
	return r.p, ""
}

type refDecoder struct {
	dec     *json.Decoder
	spec    *jsonSpec
	p       telemetry.Point
	numeric int
	reason  string
}

func (r *refDecoder) fail(reason string) {
	if r.reason == "" {
		r.reason = reason
	}
}

// object walks the members of an object whose '{' was read; node may be nil.
func (r *refDecoder) object(node *pathNode, root bool) {
	for r.dec.More() {
		kt, _ := r.dec.Token()
		key := kt.(string)
		var child *pathNode
		if node != nil {
			child = node.children[key]
		}
		vt, _ := r.dec.Token()
		if root && isTimeKey([]byte(key)) {
			r.timestamp(vt)
			continue
		}
		switch v := vt.(type) {
		case json.Delim: // '{' or '['
			if v == '{' {
				r.object(child, false)
			} else {
				r.skipArray()
			}
		case json.Number:
			f, err := strconv.ParseFloat(string(v), 64)
			if err != nil && math.IsInf(f, 0) && ((root && key != "") || (child != nil && child.field != "")) {
				r.fail(ReasonOutOfRange)
			}
			r.number(child, key, root, f)
		case bool:
			r.number(child, key, root, map[bool]float64{true: 1}[v])
		case string:
			if child != nil && child.tag != "" && v != "" {
				r.p.SetTag(child.tag, v)
			}
		}
	}
	r.dec.Token() // '}'
}

func (r *refDecoder) number(child *pathNode, key string, root bool, f float64) {
	switch {
	case child != nil && child.field != "":
		r.p.SetField(child.field, f)
	case root && key != "":
		r.p.SetField(key, f)
	default:
		return
	}
	r.numeric++
}

func (r *refDecoder) skipArray() {
	for depth := 1; depth > 0; {
		tok, _ := r.dec.Token()
		switch tok {
		case json.Delim('['), json.Delim('{'):
			depth++
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
	}
}

func (r *refDecoder) timestamp(vt json.Token) {
	var rej *Rejection
	var ts = r.p.Time
	switch v := vt.(type) {
	case nil:
		return
	case string:
		ts, rej = stringTime([]byte(v))
	case json.Number:
		ts, rej = numberTime([]byte(v))
	case json.Delim:
		r.fail(ReasonBadTimestamp)
		if v == '{' {
			r.object(nil, false)
		} else {
			r.skipArray()
		}
		return
	default:
		rej = reject(ReasonBadTimestamp, "boolean")
	}
	if rej != nil {
		r.fail(rej.Reason)
		return
	}
	r.p.Time = ts
}

// jsonNesting returns the deepest nesting of objects and arrays in a valid
// JSON document.
func jsonNesting(b []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

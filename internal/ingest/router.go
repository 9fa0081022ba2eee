// Package ingest turns MQTT messages into telemetry points: a topic router
// (first matching mapping wins) and payload decoders for JSON objects, bare
// numbers and InfluxDB line protocol. Every number becomes a float64, so 21
// and 21.0 are the same value. Whatever cannot be decoded is reported as a
// *Rejection with a reason from a small fixed set, for metrics.
//
// The package depends on the standard library and internal/telemetry only.
package ingest

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/borda-edge/borda/internal/telemetry"
)

// valueField is the field of a bare-number payload.
const valueField = "value"

// Router routes messages to their mapping and decodes them. It is immutable
// and safe for concurrent use.
type Router struct {
	routes     []route
	maxPayload int
}

// route is a compiled Mapping.
type route struct {
	filter        filter
	measurement   template
	topicTags     []levelTag
	refs          []int // topic levels that must not be empty
	format        string
	precision     time.Duration
	json          *jsonSpec
	tagDefaults   []telemetry.Tag
	fieldDefaults []telemetry.Field
	tagCap        int
}

type levelTag struct {
	key   string
	level int
}

// NewRouter validates cfg and compiles it.
func NewRouter(cfg Config) (*Router, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Router{maxPayload: cfg.MaxPayloadBytes}
	for _, m := range cfg.mappings() {
		r.routes = append(r.routes, compile(m))
	}
	return r, nil
}

// compile builds a route from a validated mapping.
func compile(m Mapping) route {
	f, _ := parseFilter(m.Topic)
	names := levelNames(m.Levels, f.fixed, true, func(string, string, ...any) {})
	rt := route{filter: f, format: m.format(), tagCap: len(m.TopicTags) + len(m.Tags) + len(m.TagDefaults)}
	rt.precision, _ = parsePrecision(m.Precision)
	if rt.format != FormatInflux {
		rt.measurement, _ = parseTemplate(m.Measurement, names, f.fixed)
		rt.refs = rt.measurement.levels()
	}
	for _, t := range m.TopicTags {
		rt.topicTags = append(rt.topicTags, levelTag{key: t, level: names[t]})
		rt.refs = append(rt.refs, names[t])
	}
	for _, k := range sortedKeys(m.TagDefaults) {
		rt.tagDefaults = append(rt.tagDefaults, telemetry.Tag{Key: k, Value: m.TagDefaults[k]})
	}
	for _, k := range sortedKeys(m.FieldDefaults) {
		rt.fieldDefaults = append(rt.fieldDefaults, telemetry.Field{Key: k, Value: m.FieldDefaults[k]})
	}
	rt.json = newJSONSpec(m.Fields, m.Tags, append(sortedKeys(m.FieldDefaults), valueField))
	return rt
}

// Route decodes one message and appends its points to dst (reuse dst[:0]
// to avoid allocating). A rejected message returns dst unchanged and a
// *Rejection. A line-protocol batch may return points and an error
// together: the points of the good lines and one *Rejection per bad line,
// joined (see Rejections). Route never panics.
func (r *Router) Route(topic string, payload []byte, received time.Time, dst []telemetry.Point) ([]telemetry.Point, error) {
	dst, rejs := r.route(topic, payload, received, dst)
	for _, rej := range rejs {
		rej.Topic = topic
	}
	return dst, joinRejections(rejs)
}

func (r *Router) route(topic string, payload []byte, received time.Time, dst []telemetry.Point) ([]telemetry.Point, []*Rejection) {
	if len(payload) > r.maxPayload {
		return dst, []*Rejection{reject(ReasonTooLarge, "payload of %d bytes exceeds max_payload_bytes %d", len(payload), r.maxPayload)}
	}
	if rej := checkTopic(topic); rej != nil {
		return dst, []*Rejection{rej}
	}
	var buf [16]string
	levels := splitTopic(topic, buf[:])
	rt := r.match(levels)
	if rt == nil {
		return dst, []*Rejection{reject(ReasonUnknownTopic, "no mapping matches")}
	}
	for _, i := range rt.refs {
		if levels[i] == "" {
			return dst, []*Rejection{reject(ReasonBadTopic, "topic level %d is empty", i)}
		}
	}
	body := trimSpace(payload)
	if len(body) == 0 {
		return dst, []*Rejection{reject(ReasonEmpty, "empty payload")}
	}
	if rt.formatOf(body) == FormatInflux {
		return rt.lines(levels, body, received, dst)
	}
	p, rej := rt.single(levels, body, received)
	if rej != nil {
		return dst, []*Rejection{rej}
	}
	return append(dst, p), nil
}

// Matches reports whether topic is a valid topic name that the filter of
// some mapping matches: a cheap pre-check (no allocation) for callers that
// skip topics nobody maps. Route may still reject the message.
func (r *Router) Matches(topic string) bool {
	if checkTopic(topic) != nil {
		return false
	}
	var buf [16]string
	return r.match(splitTopic(topic, buf[:])) != nil
}

func (r *Router) match(levels []string) *route {
	for i := range r.routes {
		if r.routes[i].filter.match(levels) {
			return &r.routes[i]
		}
	}
	return nil
}

// formatOf resolves the auto format for a (trimmed, non-empty) body.
func (rt *route) formatOf(body []byte) string {
	if rt.format != FormatAuto {
		return rt.format
	}
	switch {
	case body[0] == '{':
		return FormatJSON
	case slices.Contains(body, '='): // never part of a number
		return FormatInflux
	}
	return FormatNumber
}

// single decodes a JSON object or bare number into one point.
func (rt *route) single(levels []string, body []byte, received time.Time) (telemetry.Point, *Rejection) {
	p := telemetry.Point{
		Measurement: rt.measurement.expand(levels),
		Tags:        make([]telemetry.Tag, 0, rt.tagCap),
		Fields:      make([]telemetry.Field, 0, 4+len(rt.fieldDefaults)),
		Time:        received,
	}
	var rej *Rejection
	if rt.format != FormatNumber && body[0] == '{' {
		p.Time, rej = decodeJSONObject(body, rt.json, &p, received)
	} else {
		var v float64
		v, rej = parseBareNumber(body)
		if rej != nil && rej.Reason == ReasonNotNumeric && rt.format == FormatJSON && !json.Valid(body) {
			rej = reject(ReasonBadJSON, "payload %s is neither JSON nor a number", quoteShort(body))
		}
		p.Fields = append(p.Fields, telemetry.Field{Key: valueField, Value: v})
	}
	if rej != nil {
		return telemetry.Point{}, rej
	}
	rt.finish(&p, levels)
	return p, nil
}

// lines decodes a line-protocol batch and finishes each good point.
func (rt *route) lines(levels []string, body []byte, received time.Time, dst []telemetry.Point) ([]telemetry.Point, []*Rejection) {
	n := len(dst)
	dst, rejs := decodeLines(body, rt.precision, received, dst)
	for i := n; i < len(dst); i++ {
		rt.finish(&dst[i], levels)
	}
	return dst, rejs
}

// finish adds topic tags (they win over payload tags) and defaults.
func (rt *route) finish(p *telemetry.Point, levels []string) {
	for _, t := range rt.topicTags {
		p.SetTag(t.key, levels[t.level])
	}
	for _, t := range rt.tagDefaults {
		setTagIfAbsent(p, t.Key, t.Value)
	}
	for _, f := range rt.fieldDefaults {
		if _, ok := p.Field(f.Key); !ok {
			p.Fields = append(p.Fields, f)
		}
	}
}

package rules

import (
	"hash/fnv"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/borda-edge/borda/internal/telemetry"
)

// series is the state of one rule for one label set (measurement and
// tags): history of the tracked field, detectors, and the alert
// lifecycle. mu guards everything below it.
type series struct {
	mu sync.Mutex

	next        *series // next series of the shard with the same key hash
	key         string  // measurement and tags, see appendKey
	measurement string
	tags        []telemetry.Tag
	hash        uint64 // FNV-1a of key, for alert IDs
	tagAny      []any  // tag values boxed once, for _get
	labels      map[string]string
	name        string // PromQL form, built on first alert

	count        uint64
	firstT       int64 // reading times, Unix ns
	lastT        int64
	lastV        float64
	runStart     int64 // first reading of the current run of equal values
	runLen       int
	ring         ring
	ewma         []ewma
	lastSeen     time.Time // receive time of the last reading (silent rules)
	pending      bool
	pendingSince time.Time
	suppressed   bool // the current episode was suppressed by cooldown
	firing       *telemetry.Alert
	lastFired    time.Time
	lastIDNano   int64
}

func newSeries(key string, p *telemetry.Point, l *layout) *series {
	h := fnv.New64a()
	h.Write([]byte(key))
	return &series{
		key: key, measurement: p.Measurement, hash: h.Sum64(),
		tags: append([]telemetry.Tag(nil), p.Tags...),
		ewma: make([]ewma, len(l.alphas)),
	}
}

// appendKey appends the identity of p's series: measurement and tags
// (sorted by key, as telemetry.Point keeps them), separated by bytes that
// never occur in UTF-8.
func appendKey(b []byte, p *telemetry.Point) []byte {
	b = append(b, p.Measurement...)
	for _, t := range p.Tags {
		b = append(b, 0xff)
		b = append(b, t.Key...)
		b = append(b, 0xfe)
		b = append(b, t.Value...)
	}
	return b
}

// run is the start and length of the run of equal values that a reading
// (t, v) continues or starts.
func (s *series) run(t int64, v float64) (int64, int) {
	if s.count > 0 && v == s.lastV {
		return s.runStart, min(s.runLen+1, math.MaxInt32)
	}
	return t, 1
}

// observe adds a reading of the tracked field to the history and the
// detectors, after the rule's expressions saw it.
func (s *series) observe(l *layout, t int64, v float64) {
	s.runStart, s.runLen = s.run(t, v)
	if s.count == 0 {
		s.firstT = t
	}
	for i := range min(len(s.ewma), len(l.alphas)) {
		s.ewma[i].update(v, l.alphas[i])
	}
	if l.need > 0 || l.span > 0 {
		s.ring.push(t, v, l.need, l.span > 0, t-int64(l.span))
	}
	s.lastT, s.lastV = t, v
	s.count++
}

func (s *series) tagValue(name string) (any, bool) {
	for i, t := range s.tags {
		if t.Key == name {
			if s.tagAny == nil {
				s.tagAny = make([]any, len(s.tags))
				for j, t := range s.tags {
					s.tagAny[j] = t.Value
				}
			}
			return s.tagAny[i], true
		}
	}
	return nil, false
}

func (s *series) deviceID() string {
	for _, t := range s.tags {
		if t.Key == "device_id" {
			return t.Value
		}
	}
	return ""
}

// labelMap is the series' tags as a map, built once and shared by all its
// alert events (receivers must not modify it).
func (s *series) labelMap() map[string]string {
	if s.labels == nil {
		s.labels = make(map[string]string, len(s.tags))
		for _, t := range s.tags {
			s.labels[t.Key] = t.Value
		}
	}
	return s.labels
}

// seriesName is the series in PromQL form, named as the store names it:
// measurement for field value, else measurement_field; empty tags are
// left out.
func (s *series) seriesName(field string) string {
	if s.name != "" {
		return s.name
	}
	metric := s.measurement
	if field != "value" {
		metric += "_" + field
	}
	var b strings.Builder
	b.WriteString(sanitize(metric, true))
	b.WriteByte('{')
	n := 0
	for _, t := range s.tags {
		if t.Value == "" {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		b.WriteString(sanitize(t.Key, false))
		b.WriteByte('=')
		b.WriteString(strconv.Quote(t.Value))
	}
	b.WriteByte('}')
	s.name = b.String()
	return s.name
}

// sanitize maps s onto a Prometheus metric name (colon true) or label
// name, like the store: invalid characters become '_', a leading digit
// gets a '_' prefix.
func sanitize(s string, colon bool) string {
	var b strings.Builder
	for i, r := range s {
		if i == 0 && r >= '0' && r <= '9' {
			b.WriteByte('_')
		}
		ok := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || (colon && r == ':')
		if ok {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

const numShards = 32

// ruleState is the per-series state of one rule, sharded by series key
// hash. It outlives a reload when the rule's identity is unchanged.
type ruleState struct {
	shards  [numShards]shard
	n       atomic.Int64
	retired atomic.Bool // the rule was removed: evaluate nothing more
}

type shard struct {
	mu sync.Mutex
	m  map[uint64]*series // by key hash; collisions are chained by series.next
	_  [48]byte           // keep shards on separate cache lines (64 B)
}

// lookup finds or creates the series with key. It returns nil when the
// series is new and the rule already tracks limit series.
func (st *ruleState) lookup(key []byte, h uint64, p *telemetry.Point, l *layout, limit int) (s *series, created bool) {
	sh := &st.shards[h%numShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	first := sh.m[h]
	for s = first; s != nil; s = s.next {
		if s.key == string(key) {
			return s, false
		}
	}
	if st.n.Load() >= int64(limit) {
		return nil, false
	}
	s = newSeries(string(key), p, l)
	s.next = first
	if sh.m == nil {
		sh.m = make(map[uint64]*series)
	}
	sh.m[h] = s
	st.n.Add(1)
	return s, true
}

// each calls fn for every series, one shard snapshot at a time, without
// holding a shard lock during fn. buf is reused between shards.
func (st *ruleState) each(buf []*series, fn func(*series)) []*series {
	for i := range st.shards {
		sh := &st.shards[i]
		sh.mu.Lock()
		buf = buf[:0]
		for _, s := range sh.m {
			for ; s != nil; s = s.next {
				buf = append(buf, s)
			}
		}
		sh.mu.Unlock()
		for _, s := range buf {
			fn(s)
		}
	}
	clear(buf[:cap(buf)])
	return buf[:0]
}

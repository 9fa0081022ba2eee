package store

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/util/annotations"
)

// deviceJSON is one entry of /api/v1/devices.
type deviceJSON struct {
	DeviceID   string                `json:"device_id"`
	Node       string                `json:"node,omitempty"` // the gateway it came from (collectors); also in labels
	DeviceType string                `json:"device_type,omitempty"`
	LastSeen   time.Time             `json:"last_seen"`
	Labels     map[string]string     `json:"labels"`
	Metrics    map[string]metricJSON `json:"metrics"`
}

// metricJSON is the latest reading of one metric of a device.
type metricJSON struct {
	Value     jsonFloat         `json:"value"`
	Timestamp time.Time         `json:"timestamp"`
	Labels    map[string]string `json:"labels,omitempty"` // labels of this series beyond the device's common ones
}

// jsonFloat is a JSON number, or "NaN", "+Inf", "-Inf" (which JSON numbers
// cannot express, spelled as Prometheus does).
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	switch x := float64(f); {
	case math.IsNaN(x):
		return []byte(`"NaN"`), nil
	case math.IsInf(x, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(x, -1):
		return []byte(`"-Inf"`), nil
	default:
		return json.Marshal(x)
	}
}

// deviceFilter holds the parameters of /api/v1/devices.
type deviceFilter struct {
	ids      []string            // device_id values (any of), sorted, unique
	types    []string            // device_type values (any of)
	matchers [][]*labels.Matcher // match[] selectors (any of)
	after    int64               // seen_after, ms
	before   int64               // seen_before, ms
	limit    int                 // 0: no limit
}

func (s *Store) deviceParams(r *http.Request) (*deviceFilter, error) {
	f := &deviceFilter{}
	for _, p := range []struct {
		name string
		dst  *[]string
	}{{"device_id", &f.ids}, {"device_type", &f.types}} {
		for _, v := range r.Form[p.name] {
			if v == "" {
				return nil, paramError(p.name, errors.New("empty value"))
			}
			*p.dst = append(*p.dst, v)
		}
	}
	slices.Sort(f.ids)
	f.ids = slices.Compact(f.ids)
	if ms := r.Form["match[]"]; len(ms) > 0 {
		var err error
		if f.matchers, err = s.parser.ParseMetricSelectors(ms); err != nil {
			return nil, paramError("match[]", err)
		}
		for _, set := range f.matchers {
			if !matchesSomething(set) {
				return nil, paramError("match[]", errors.New("match[] must contain at least one non-empty matcher"))
			}
		}
	}
	after, err := timeParam(r.FormValue, "seen_after", minTime)
	if err != nil {
		return nil, err
	}
	before, err := timeParam(r.FormValue, "seen_before", maxTime)
	if err != nil {
		return nil, err
	}
	f.after, f.before = after.UnixMilli(), before.UnixMilli()
	if v := r.FormValue("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, paramError("limit", err)
		}
		if n < 0 {
			return nil, paramError("limit", errors.New("limit must be non-negative"))
		}
		f.limit = n
	}
	return f, nil
}

// matchSeries reports whether a series passes the device_type and match[]
// filters.
func (f *deviceFilter) matchSeries(lset labels.Labels) bool {
	if len(f.types) > 0 && !slices.Contains(f.types, lset.Get(labelDeviceType)) {
		return false
	}
	if len(f.matchers) == 0 {
		return true
	}
	for _, set := range f.matchers {
		if matchAll(set, lset) {
			return true
		}
	}
	return false
}

func matchAll(ms []*labels.Matcher, lset labels.Labels) bool {
	for _, m := range ms {
		if !m.Matches(lset.Get(m.Name)) {
			return false
		}
	}
	return true
}

// devicesAPI serves /api/v1/devices: every known device, sorted by
// device_id, with its latest reading per metric and its last-seen time.
func (s *Store) devicesAPI(r *http.Request) (any, error) {
	f, err := s.deviceParams(r)
	if err != nil {
		return nil, err
	}
	db, err := s.acquire()
	if err != nil {
		return nil, err
	}
	mint := dataMinTime(db)
	s.release()
	snaps, truncated := s.devices.snapshot(f, mint)
	out := make([]deviceJSON, 0, len(snaps))
	for i := range snaps {
		out = append(out, snaps[i].toJSON())
	}
	var annos annotations.Annotations
	if truncated {
		annos = annos.Add(errors.New("results truncated due to limit"))
	}
	return withAnnotations{data: out, annos: annos}, nil
}

// deviceSnap is a copy of one device's index entries taken under the lock.
type deviceSnap struct {
	id     string
	node   string // the node label of its series ("" without)
	lastT  int64
	picks  []pick            // the newest selected series of each metric name
	common map[string]string // labels shared by all selected series
}

type pick struct {
	name string
	lset labels.Labels // immutable, shared with the index
	t    int64
	v    float64
}

// snapshot copies out the devices passing f, sorted by device_id, at most
// f.limit of them (truncated reports that more would have passed). Entries
// older than mint (deleted by retention, not pruned yet) are ignored.
func (ix *deviceIndex) snapshot(f *deviceFilter, mint int64) (out []deviceSnap, truncated bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	ids := f.ids
	if len(ids) == 0 {
		ids = make([]string, 0, len(ix.devices))
		for id := range ix.devices {
			ids = append(ids, id)
		}
		slices.Sort(ids)
	}
	for _, id := range ids {
		d := ix.devices[id]
		if d == nil {
			continue
		}
		for _, snap := range d.snapshots(f, mint) {
			if f.limit > 0 && len(out) == f.limit {
				return out, true
			}
			out = append(out, snap)
		}
	}
	return out, false
}

// snapshots copies out the device's series passing f: one snapshot per
// value of the node label, so that devices of different gateways that
// share a device_id (a collector's view of a fleet) are listed apart.
// Sorted by node; a device without node labels gives one.
func (d *deviceRec) snapshots(f *deviceFilter, mint int64) []deviceSnap {
	var snaps []deviceSnap // a device has one node, rarely a few: scanned, no map
	for _, e := range d.series {
		if e.t < mint {
			continue // no sample yet, or deleted by retention
		}
		node := e.lset.Get(labelNode)
		k := slices.IndexFunc(snaps, func(s deviceSnap) bool { return s.node == node })
		if k < 0 {
			k = len(snaps)
			snaps = append(snaps, deviceSnap{id: d.id, node: node, lastT: math.MinInt64})
		}
		snap := &snaps[k]
		snap.lastT = max(snap.lastT, e.t)
		if f.matchSeries(e.lset) {
			snap.add(e)
		}
	}
	slices.SortFunc(snaps, func(a, b deviceSnap) int { return strings.Compare(a.node, b.node) })
	return slices.DeleteFunc(snaps, func(s deviceSnap) bool {
		return len(s.picks) == 0 || s.lastT < f.after || s.lastT > f.before
	})
}

// add keeps e if it is the newest selected series of its metric name (a
// device has a handful of metrics: scanned, no map).
func (d *deviceSnap) add(e *latest) {
	d.intersect(e.lset)
	name := e.lset.Get(labels.MetricName)
	i := slices.IndexFunc(d.picks, func(p pick) bool { return p.name == name })
	if i < 0 {
		d.picks = append(d.picks, pick{name: name, lset: e.lset, t: e.t, v: e.v})
		return
	}
	if p := &d.picks[i]; e.t > p.t || (e.t == p.t && labels.Compare(e.lset, p.lset) < 0) {
		*p = pick{name: name, lset: e.lset, t: e.t, v: e.v}
	}
}

// intersect narrows the common labels down to those of lset.
func (d *deviceSnap) intersect(lset labels.Labels) {
	if d.common == nil {
		d.common = map[string]string{}
		lset.Range(func(l labels.Label) {
			if l.Name != labels.MetricName && l.Name != labelDeviceID {
				d.common[l.Name] = l.Value
			}
		})
		return
	}
	for k, v := range d.common {
		if lset.Get(k) != v {
			delete(d.common, k)
		}
	}
}

// toJSON builds the response entry. labels are the labels shared by all
// the device's selected series (minus __name__ and device_id, with
// device_type moved to its own field); each metric lists the labels of its
// series beyond those.
func (d *deviceSnap) toJSON() deviceJSON {
	common := d.common
	out := deviceJSON{
		DeviceID: d.id,
		Node:     d.node,
		LastSeen: time.UnixMilli(d.lastT).UTC(),
		Metrics:  make(map[string]metricJSON, len(d.picks)),
	}
	for _, p := range d.picks {
		var extra map[string]string
		p.lset.Range(func(l labels.Label) {
			if _, ok := common[l.Name]; ok || l.Name == labels.MetricName || l.Name == labelDeviceID {
				return
			}
			if extra == nil {
				extra = map[string]string{}
			}
			extra[l.Name] = l.Value
		})
		out.Metrics[p.name] = metricJSON{Value: jsonFloat(p.v), Timestamp: time.UnixMilli(p.t).UTC(), Labels: extra}
	}
	out.DeviceType = common[labelDeviceType]
	delete(common, labelDeviceType)
	out.Labels = common
	return out
}

package ingest

import (
	"fmt"
	"maps"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/telemetry"
)

// recv is the receive time used throughout the tests.
var recv = time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC)

// want describes an expected point; a zero Time means recv.
type want struct {
	Measurement string
	Tags        map[string]string
	Fields      map[string]float64
	Time        time.Time
}

func tagMap(p telemetry.Point) map[string]string {
	m := map[string]string{}
	for _, t := range p.Tags {
		m[t.Key] = t.Value
	}
	return m
}

func fieldMap(p telemetry.Point) map[string]float64 {
	m := map[string]float64{}
	for _, f := range p.Fields {
		m[f.Key] = f.Value
	}
	return m
}

func checkPoint(t *testing.T, got telemetry.Point, w want) {
	t.Helper()
	if err := pointInvariants(got); err != nil {
		t.Errorf("invalid point %+v: %v", got, err)
	}
	if w.Time.IsZero() {
		w.Time = recv
	}
	if got.Measurement != w.Measurement {
		t.Errorf("measurement = %q, want %q", got.Measurement, w.Measurement)
	}
	if w.Tags == nil {
		w.Tags = map[string]string{}
	}
	if g := tagMap(got); !maps.Equal(g, w.Tags) {
		t.Errorf("tags = %v, want %v", g, w.Tags)
	}
	if g := fieldMap(got); !maps.Equal(g, w.Fields) {
		t.Errorf("fields = %v, want %v", g, w.Fields)
	}
	if !got.Time.Equal(w.Time) {
		t.Errorf("time = %s, want %s", got.Time.Format(time.RFC3339Nano), w.Time.Format(time.RFC3339Nano))
	}
}

// pointInvariants checks what every decoded point guarantees.
func pointInvariants(p telemetry.Point) error {
	if p.Measurement == "" {
		return fmt.Errorf("empty measurement")
	}
	if len(p.Fields) == 0 {
		return fmt.Errorf("no fields")
	}
	for i, tg := range p.Tags {
		if tg.Key == "" || tg.Value == "" {
			return fmt.Errorf("empty tag key or value %+v", tg)
		}
		if i > 0 && p.Tags[i-1].Key >= tg.Key {
			return fmt.Errorf("tags not sorted and unique: %v", p.Tags)
		}
	}
	seen := map[string]bool{}
	for _, f := range p.Fields {
		if seen[f.Key] {
			return fmt.Errorf("repeated field %q", f.Key)
		}
		seen[f.Key] = true
		if math.IsNaN(f.Value) || math.IsInf(f.Value, 0) {
			return fmt.Errorf("field %q is %v", f.Key, f.Value)
		}
	}
	if !p.Time.Equal(recv) && (p.Time.Before(minTime) || p.Time.After(maxTime)) {
		return fmt.Errorf("time %s out of range", p.Time)
	}
	return nil
}

// reasons lists the reasons of every rejection in err.
func reasons(err error) []string {
	var out []string
	for _, r := range Rejections(err) {
		out = append(out, r.Reason)
	}
	return out
}

// reasonOf returns the single reason of err ("" for nil, "many" for more).
func reasonOf(err error) string {
	switch rs := reasons(err); len(rs) {
	case 0:
		if err != nil {
			return "not a *Rejection: " + err.Error()
		}
		return ""
	case 1:
		return rs[0]
	default:
		return "many: " + strings.Join(rs, ",")
	}
}

func knownReason(r string) bool {
	for _, k := range Reasons() {
		if r == k {
			return true
		}
	}
	return false
}

func mustRouter(t testing.TB, cfg Config) *Router {
	t.Helper()
	r, err := NewRouter(cfg)
	if err != nil {
		t.Fatalf("NewRouter: %v", err)
	}
	return r
}

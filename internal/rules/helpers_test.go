package rules

import (
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/borda-edge/borda/internal/telemetry"
)

var t0 = time.Date(2024, 11, 24, 22, 0, 0, 0, time.UTC)

type helperCase struct {
	Name     string    `yaml:"name"`
	Expr     string    `yaml:"expr"`
	Values   []float64 `yaml:"values"`
	Readings string    `yaml:"readings"`
	Alpha    float64   `yaml:"alpha"`
	Want     string    `yaml:"want"`
}

type reading struct {
	at time.Duration
	v  float64
}

func (c helperCase) readings(t *testing.T) []reading {
	var out []reading
	for i, v := range c.Values {
		out = append(out, reading{time.Duration(i) * time.Second, v})
	}
	for _, item := range strings.Fields(c.Readings) {
		at, v, ok := strings.Cut(item, "=")
		d, err := time.ParseDuration(at)
		f, err2 := strconv.ParseFloat(v, 64)
		if !ok || err != nil || err2 != nil {
			t.Fatalf("%s: bad reading %q", c.Name, item)
		}
		out = append(out, reading{d, f})
	}
	return out
}

func TestHelpers(t *testing.T) {
	data, err := os.ReadFile("testdata/helpers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cases []helperCase
	if err := yaml.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			got := evalHelper(t, c)
			if c.Want == "true" || c.Want == "false" {
				if got != (c.Want == "true") {
					t.Fatalf("%s = %v, want %s", c.Expr, got, c.Want)
				}
				return
			}
			want, err := strconv.ParseFloat(c.Want, 64)
			if err != nil {
				t.Fatalf("bad want %q", c.Want)
			}
			f, _ := got.(float64)
			if !sameFloat(f, want) {
				t.Fatalf("%s = %v, want %v", c.Expr, got, want)
			}
		})
	}
}

func sameFloat(a, b float64) bool {
	switch {
	case math.IsNaN(a) || math.IsNaN(b):
		return math.IsNaN(a) && math.IsNaN(b)
	case math.IsInf(a, 0) || math.IsInf(b, 0):
		return a == b
	}
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b))
}

// evalHelper feeds all readings but the last to a series and evaluates
// the expression at the last one.
func evalHelper(t *testing.T, c helperCase) any {
	t.Helper()
	alpha := c.Alpha
	if alpha == 0 {
		alpha = DefaultEWMAAlpha
	}
	isBool := c.Want == "true" || c.Want == "false"
	l := &layout{}
	prog, err := compileExpr(c.Expr, l, alpha, !isBool)
	if err != nil {
		t.Fatalf("compile %q: %v", c.Expr, err)
	}
	rs := c.readings(t)
	p := telemetry.Point{Measurement: "sensors_temperature", Tags: []telemetry.Tag{{Key: "device_id", Value: "s1"}}}
	s := newSeries("k", &p, l)
	for _, r := range rs[:len(rs)-1] {
		s.observe(l, t0.Add(r.at).UnixNano(), r.v)
	}
	last := rs[len(rs)-1]
	env := newEvalEnv()
	env.bind("sensors/s1/temperature", &p, s, l, t0.Add(last.at).UnixNano(), last.v)
	out, err := env.vm.Run(prog, env)
	if err != nil {
		t.Fatalf("run %q: %v", c.Expr, err)
	}
	return out
}

func TestMedianMatchesSort(t *testing.T) {
	for n := 1; n < 60; n++ {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = float64((i*7919 + n*31) % 13) // many duplicates
		}
		sorted := append([]float64(nil), xs...)
		for i := range sorted { // insertion sort: independent of the code under test
			for j := i; j > 0 && sorted[j] < sorted[j-1]; j-- {
				sorted[j], sorted[j-1] = sorted[j-1], sorted[j]
			}
		}
		want := sorted[n/2]
		if n%2 == 0 {
			want = (sorted[n/2-1] + sorted[n/2]) / 2
		}
		if got := median(xs); got != want {
			t.Fatalf("n=%d: median = %v, want %v", n, got, want)
		}
	}
}

func TestRingKeepsOrderWhenGrowing(t *testing.T) {
	var r ring
	for i := range 100 {
		r.push(int64(i), float64(i), 4, true, int64(i)-1000) // everything stays inside the span
	}
	if r.n != 100 {
		t.Fatalf("n = %d, want 100 (the ring should grow for the duration window)", r.n)
	}
	for i := range 100 {
		if got := r.value(i); got != float64(99-i) {
			t.Fatalf("value(%d) = %v, want %v", i, got, 99-i)
		}
	}
	var c ring
	for i := range 100 {
		c.push(int64(i), float64(i), 4, false, 0)
	}
	if c.n != 4 || c.value(0) != 99 || c.value(3) != 96 {
		t.Fatalf("count ring: n=%d newest=%v oldest=%v", c.n, c.value(0), c.value(3))
	}
}

func TestLookupChainsHashCollisions(t *testing.T) {
	var st ruleState
	l := &layout{}
	pa, pb := telemetry.Point{Measurement: "a"}, telemetry.Point{Measurement: "b"}
	a, created := st.lookup([]byte("a"), 7, &pa, l, 2)
	if a == nil || !created {
		t.Fatal("a not created")
	}
	b, created := st.lookup([]byte("b"), 7, &pb, l, 2) // same hash, other key
	if b == nil || !created || b == a {
		t.Fatal("b not created apart from a")
	}
	if a2, created := st.lookup([]byte("a"), 7, &pa, l, 2); a2 != a || created {
		t.Fatal("a not found behind b")
	}
	if b2, _ := st.lookup([]byte("b"), 7, &pb, l, 2); b2 != b {
		t.Fatal("b not found")
	}
	if c, _ := st.lookup([]byte("c"), 7, &pb, l, 2); c != nil {
		t.Fatal("a third series was created over the limit of 2")
	}
	n := 0
	st.each(nil, func(*series) { n++ })
	if n != 2 || st.n.Load() != 2 {
		t.Fatalf("each saw %d series, n = %d", n, st.n.Load())
	}
}

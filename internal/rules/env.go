package rules

import (
	"fmt"
	"math"

	"github.com/expr-lang/expr/vm"

	"github.com/borda-edge/borda/internal/telemetry"
)

// evalEnv is the environment conditions are compiled against and run
// with. The helper functions are fields bound once to the env (a pooled
// object), so that calling them allocates nothing and expr calls them
// without reflection; the unexported fields are the reading being
// evaluated and its series (locked by the caller).
type evalEnv struct {
	Value       float64 `expr:"value"`
	Measurement string  `expr:"measurement"`
	Topic       string  `expr:"topic"`

	Prev     func() float64       `expr:"prev"`
	Delta    func() float64       `expr:"delta"`
	Rate     func() float64       `expr:"rate"`
	Count    func() int           `expr:"count"`
	Mean     func(int) float64    `expr:"mean"`
	Min      func(int) float64    `expr:"min"`
	Max      func(int) float64    `expr:"max"`
	ZScore   func(int) float64    `expr:"zscore"`
	MADScore func(int) float64    `expr:"mad_score"`
	Stuck    func(int) bool       `expr:"stuck"`
	ROCLimit func(float64) bool   `expr:"roc_limit"`
	Has      func(string) bool    `expr:"has"`
	Field    func(string) float64 `expr:"field"`
	Tag      func(string) string  `expr:"tag"`
	Get      func(any) any        `expr:"_get"`

	s       *series
	l       *layout
	p       *telemetry.Point
	t       int64 // reading time, Unix ns
	scratch []float64
	vm      vm.VM
}

// memoryBudget bounds what one evaluation may allocate in expr's VM
// (array, map and range elements), so that a condition like
// `len(1..100000000) > 0` fails fast instead of stalling ingest.
const memoryBudget = 10000

func newEvalEnv() *evalEnv {
	e := &evalEnv{}
	e.vm.MemoryBudget = memoryBudget
	e.Prev, e.Delta, e.Rate, e.Count = e.prev, e.delta, e.rate, e.count
	e.Mean, e.Min, e.Max = e.mean, e.min, e.max
	e.ZScore, e.MADScore, e.Stuck, e.ROCLimit = e.zscore, e.madScore, e.stuck, e.rocLimit
	e.Has, e.Field, e.Tag, e.Get = e.has, e.field, e.tag, e.get
	return e
}

// bind points the env at one reading of series s.
func (e *evalEnv) bind(topic string, p *telemetry.Point, s *series, l *layout, t int64, v float64) {
	e.Value, e.Measurement, e.Topic = v, p.Measurement, topic
	e.p, e.s, e.l, e.t = p, s, l, t
}

// release drops references so that a pooled env keeps nothing alive.
func (e *evalEnv) release() {
	e.p, e.s, e.l = nil, nil, nil
	e.Measurement, e.Topic = "", ""
}

// missingError is raised (as a panic, which expr turns into an error) by
// a lookup of a field or tag the reading does not have.
type missingError struct{ name string }

func (m missingError) Error() string {
	return fmt.Sprintf("the reading has no field or tag %q", m.name)
}

func (e *evalEnv) prev() float64 {
	if e.s.count == 0 {
		return math.NaN()
	}
	return e.s.lastV
}

func (e *evalEnv) delta() float64 { return e.Value - e.prev() }

func (e *evalEnv) rate() float64 {
	dt := e.t - e.s.lastT
	if e.s.count == 0 || dt <= 0 {
		return math.NaN()
	}
	return (e.Value - e.s.lastV) / (float64(dt) / 1e9)
}

func (e *evalEnv) rocLimit(limit float64) bool {
	r := e.rate()
	return !math.IsNaN(r) && math.Abs(r) > limit
}

func (e *evalEnv) count() int { return int(min(e.s.count+1, math.MaxInt32)) }

// span is how many history readings window i covers, or -1 while the
// series does not have a full window yet. inclusive: the current reading
// is part of the window (counts one of n).
func (e *evalEnv) span(i int, inclusive bool) int {
	if i < 0 || i >= len(e.l.windows) {
		return -1
	}
	w := e.l.windows[i]
	if w.n > 0 {
		k := w.n
		if inclusive {
			k--
		}
		if e.s.ring.n < k {
			return -1
		}
		return k
	}
	cut := e.t - int64(w.d)
	if e.s.count == 0 || e.s.firstT > cut {
		return -1
	}
	return e.s.ring.countAfter(cut)
}

func (e *evalEnv) mean(i int) float64 {
	k := e.span(i, true)
	if k < 0 {
		return math.NaN()
	}
	sum := e.Value
	for j := range k {
		sum += e.s.ring.value(j)
	}
	return sum / float64(k+1)
}

func (e *evalEnv) min(i int) float64 {
	k := e.span(i, true)
	if k < 0 {
		return math.NaN()
	}
	m := e.Value
	for j := range k {
		m = math.Min(m, e.s.ring.value(j))
	}
	return m
}

func (e *evalEnv) max(i int) float64 {
	k := e.span(i, true)
	if k < 0 {
		return math.NaN()
	}
	m := e.Value
	for j := range k {
		m = math.Max(m, e.s.ring.value(j))
	}
	return m
}

// zscore is (value - EWMA mean) / EWMA standard deviation of the
// readings before this one; NaN until about 1/alpha readings were seen.
func (e *evalEnv) zscore(slot int) float64 {
	if slot < 0 || slot >= len(e.s.ewma) || slot >= len(e.l.alphas) {
		return math.NaN()
	}
	st := e.s.ewma[slot]
	if st.n < warmup(e.l.alphas[slot]) {
		return math.NaN()
	}
	return score(e.Value-st.mean, math.Sqrt(st.variance))
}

// score is dev/scale, with scale 0 giving 0 (no deviation) or ±Inf.
func score(dev, scale float64) float64 {
	if scale > 0 {
		return dev / scale
	}
	if dev == 0 {
		return 0
	}
	return math.Inf(int(math.Copysign(1, dev)))
}

// madScore is the robust z-score 0.6745·(value − median)/MAD against the
// window's readings before this one. With MAD 0 it falls back to the mean
// absolute deviation (×1.2533), as IBM SPSS does.
func (e *evalEnv) madScore(i int) float64 {
	k := e.span(i, false)
	if k < 3 {
		return math.NaN()
	}
	buf := e.scratch[:0]
	for j := range k {
		buf = append(buf, e.s.ring.value(j))
	}
	e.scratch = buf
	med := median(buf)
	sumAD := 0.0
	for j, x := range buf {
		buf[j] = math.Abs(x - med)
		sumAD += buf[j]
	}
	dev := e.Value - med
	if mad := median(buf); mad > 0 {
		return 0.6745 * dev / mad
	}
	return score(dev, 1.253314*sumAD/float64(k))
}

// stuck reports whether the value has not changed for window i: over the
// last n readings (including this one), or for at least a duration.
func (e *evalEnv) stuck(i int) bool {
	if i < 0 || i >= len(e.l.windows) {
		return false
	}
	start, n := e.s.run(e.t, e.Value)
	if w := e.l.windows[i]; w.n > 0 {
		return n >= w.n
	} else {
		return e.t-start >= int64(w.d)
	}
}

func (e *evalEnv) has(name string) bool {
	if _, ok := e.p.Field(name); ok {
		return true
	}
	_, ok := e.p.Tag(name)
	return ok
}

func (e *evalEnv) field(name string) float64 {
	v, ok := e.p.Field(name)
	if !ok {
		panic(missingError{name})
	}
	return v
}

func (e *evalEnv) tag(name string) string {
	v, _ := e.p.Tag(name)
	return v
}

// get resolves an identifier that is not a helper: a field of the
// reading, else a tag of its series.
func (e *evalEnv) get(key any) any {
	name, _ := key.(string)
	if v, ok := e.p.Field(name); ok {
		return v
	}
	if v, ok := e.s.tagValue(name); ok {
		return v
	}
	panic(missingError{name})
}

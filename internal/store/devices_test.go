package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/telemetry"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/model/labels"
)

// devicesResp is /api/v1/devices decoded for comparison.
type devicesResp struct {
	Status    string   `json:"status"`
	ErrorType string   `json:"errorType"`
	Error     string   `json:"error"`
	Warnings  []string `json:"warnings"`
	Data      []devOut `json:"data"`
}

type devOut struct {
	DeviceID   string            `json:"device_id"`
	DeviceType string            `json:"device_type"`
	LastSeen   string            `json:"last_seen"`
	Labels     map[string]string `json:"labels"`
	Metrics    map[string]metOut `json:"metrics"`
}

type metOut struct {
	Value     any               `json:"value"`
	Timestamp string            `json:"timestamp"`
	Labels    map[string]string `json:"labels"`
}

// getDevices calls /api/v1/devices with form-encoded params (GET or POST).
func getDevices(t *testing.T, h http.Handler, method, params string) (int, devicesResp, string) {
	t.Helper()
	var req *http.Request
	if method == http.MethodPost {
		req = httptest.NewRequest(method, "/api/v1/devices", strings.NewReader(params))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, "/api/v1/devices?"+params, nil)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var resp devicesResp
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatalf("decode %q: %v", rec.Body, err)
	}
	return rec.Code, resp, rec.Body.String()
}

func rfc(ts time.Time) string { return ts.UTC().Format(time.RFC3339Nano) }

func tags(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestDevicesAPI(t *testing.T) {
	s, reg, _ := startStore(t, DefaultConfig(), t.TempDir())
	base := time.Now().Truncate(time.Second).Add(-10 * time.Minute)
	at := func(sec int) time.Time { return base.Add(time.Duration(sec) * time.Second) }
	s1 := tags("device_id", "s1", "device_type", "sensors", "location", "lab")
	mustAppend(t, s,
		point("sensors_temperature", at(0), s1, "value", 20, "quality", 1),
		point("sensors_temperature", at(10), s1, "value", 21, "quality", 1),
		point("sensors_humidity", at(10), s1, "value", 40),
		point("sensors_temperature", at(5), tags("device_id", "s2", "device_type", "sensors", "location", "hall"), "value", 18),
		point("cameras_detection", at(20), tags("device_id", "c1", "device_type", "cameras", "location", "yard", "class", "person"), "value", 1),
		point("cameras_detection", at(15), tags("device_id", "c1", "device_type", "cameras", "location", "yard", "class", "car"), "value", 2),
		point("vehicles_location", at(30), tags("device_id", "v1", "device_type", "vehicles"), "lat", 52.5, "lon", 13.4),
		point("gateway_cpu", at(30), tags("host", "gw"), "value", 5), // no device_id: not a device
	)
	// An older reading (out of order) must not replace the latest one; a
	// different value at the latest millisecond is shifted and becomes it.
	res := mustAppend(t, s,
		point("sensors_temperature", at(5), s1, "value", 19),
		point("sensors_temperature", at(10), s1, "value", 22),
	)
	if res.Appended != 2 || res.Shifted != 1 {
		t.Fatalf("second batch: %+v", res)
	}

	dS1 := devOut{"s1", "sensors", rfc(at(10).Add(time.Millisecond)), tags("location", "lab"), map[string]metOut{
		"sensors_temperature":         {22.0, rfc(at(10).Add(time.Millisecond)), nil},
		"sensors_temperature_quality": {1.0, rfc(at(10)), nil},
		"sensors_humidity":            {40.0, rfc(at(10)), nil},
	}}
	dS2 := devOut{"s2", "sensors", rfc(at(5)), tags("location", "hall"), map[string]metOut{
		"sensors_temperature": {18.0, rfc(at(5)), nil},
	}}
	dC1 := devOut{"c1", "cameras", rfc(at(20)), tags("location", "yard"), map[string]metOut{
		"cameras_detection": {1.0, rfc(at(20)), tags("class", "person")},
	}}
	dV1 := devOut{"v1", "vehicles", rfc(at(30)), tags(), map[string]metOut{
		"vehicles_location_lat": {52.5, rfc(at(30)), nil},
		"vehicles_location_lon": {13.4, rfc(at(30)), nil},
	}}
	s1Humidity := dS1
	s1Humidity.Metrics = map[string]metOut{"sensors_humidity": dS1.Metrics["sensors_humidity"]}
	c1Car := devOut{"c1", "cameras", rfc(at(20)), tags("location", "yard", "class", "car"), map[string]metOut{
		"cameras_detection": {2.0, rfc(at(15)), nil},
	}}
	all := []devOut{dC1, dS1, dS2, dV1}
	unix := func(sec int) string { return fmt.Sprint(at(sec).Unix()) }
	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v.Encode()
	}

	tests := []struct {
		name    string
		method  string
		params  string
		want    []devOut
		warning string
	}{
		{"all", "GET", "", all, ""},
		{"all POST", "POST", "", all, ""},
		{"device_id", "GET", q("device_id", "s1"), []devOut{dS1}, ""},
		{"device_ids sorted, unknown skipped", "POST", q("device_id", "s2", "device_id", "nope", "device_id", "s1", "device_id", "s2"), []devOut{dS1, dS2}, ""},
		{"unknown device", "GET", q("device_id", "nope"), []devOut{}, ""},
		{"device_type", "GET", q("device_type", "sensors"), []devOut{dS1, dS2}, ""},
		{"device_types", "GET", q("device_type", "vehicles", "device_type", "cameras"), []devOut{dC1, dV1}, ""},
		{"match metric keeps last_seen", "GET", q("match[]", "sensors_humidity"), []devOut{s1Humidity}, ""},
		{"match any of", "GET", q("match[]", `{location="hall"}`, "match[]", `{__name__=~"vehicles_.*"}`), []devOut{dS2, dV1}, ""},
		{"match older series", "GET", q("match[]", `cameras_detection{class="car"}`), []devOut{c1Car}, ""},
		{"filters combine", "GET", q("device_type", "sensors", "match[]", `{location="lab"}`), []devOut{dS1}, ""},
		{"limit", "GET", q("limit", "2"), []devOut{dC1, dS1}, "results truncated due to limit"},
		{"limit not reached", "GET", q("limit", "4"), all, ""},
		{"limit 0", "GET", q("limit", "0"), all, ""},
		{"seen_before", "GET", q("seen_before", unix(15)), []devOut{dS1, dS2}, ""},
		{"seen_after", "GET", q("seen_after", unix(15)), []devOut{dC1, dV1}, ""},
		{"seen window RFC 3339", "GET", q("seen_after", rfc(at(5)), "seen_before", rfc(at(20))), []devOut{dC1, dS1, dS2}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, resp, raw := getDevices(t, s.Handler(), tt.method, tt.params)
			if code != http.StatusOK || resp.Status != "success" {
				t.Fatalf("got %d %s", code, raw)
			}
			if !strings.Contains(raw, `"data":[`) {
				t.Errorf("data is not a list: %s", raw)
			}
			if !reflect.DeepEqual(resp.Data, tt.want) {
				t.Errorf("got  %+v\nwant %+v", resp.Data, tt.want)
			}
			if got := strings.Join(resp.Warnings, ";"); got != tt.warning {
				t.Errorf("warnings %q, want %q", got, tt.warning)
			}
		})
	}

	bad := []struct{ name, params, contains string }{
		{"negative limit", q("limit", "-1"), "non-negative"},
		{"limit not a number", q("limit", "ten"), `invalid parameter \"limit\"`},
		{"bad selector", q("match[]", "sum("), `invalid parameter \"match[]\"`},
		{"empty selector", q("match[]", `{a=~".*"}`), "non-empty"},
		{"empty device_id", q("device_id", ""), `invalid parameter \"device_id\"`},
		{"empty device_type", q("device_type", ""), `invalid parameter \"device_type\"`},
		{"bad time", q("seen_after", "yesterday"), `invalid parameter \"seen_after\"`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			code, resp, raw := getDevices(t, s.Handler(), "GET", tt.params)
			if code != http.StatusBadRequest || resp.ErrorType != "bad_data" || !strings.Contains(raw, tt.contains) {
				t.Errorf("got %d %s", code, raw)
			}
		})
	}

	err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP borda_store_devices Devices (distinct device_id values) in the latest-value index of /api/v1/devices.
# TYPE borda_store_devices gauge
borda_store_devices 4
# HELP borda_store_device_series Series with a device_id label tracked by the latest-value index.
# TYPE borda_store_device_series gauge
borda_store_device_series 8
# HELP borda_store_device_series_evicted_total Latest-value index entries dropped because the index reached 2×max_series (oldest first).
# TYPE borda_store_device_series_evicted_total counter
borda_store_device_series_evicted_total 0
`), "borda_store_devices", "borda_store_device_series", "borda_store_device_series_evicted_total")
	if err != nil {
		t.Error(err)
	}
}

func TestDevicesNotReady(t *testing.T) {
	s := New(DefaultConfig(), Deps{Dir: t.TempDir()})
	code, resp, raw := getDevices(t, s.Handler(), "GET", "")
	if code != http.StatusServiceUnavailable || resp.ErrorType != "unavailable" {
		t.Errorf("got %d %s", code, raw)
	}
}

// TestDevicesRebuild checks that the index is rebuilt on restart to exactly
// what it was, including devices silent for days whose data is only in
// persisted blocks, tombstoned samples, shifted and out-of-order samples,
// and that the rebuild decodes about one chunk per series.
func TestDevicesRebuild(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	s, _, stop := startStore(t, cfg, dir)
	now := time.Now().Truncate(time.Second)
	series := func(dev, typ string, from time.Time, n int, step time.Duration) []telemetry.Point {
		var pts []telemetry.Point
		for i := range n {
			pts = append(pts, point(typ+"_temperature", from.Add(time.Duration(i)*step),
				tags("device_id", dev, "device_type", typ, "location", "far"), "value", i, "quality", i%2))
		}
		return pts
	}
	// Oldest first, so that every reading is in order for the empty TSDB:
	// 6h of 10s readings ending 3 days ago (several chunks per block), a
	// device whose last readings get deleted, one silent for 5 hours, and
	// a live one.
	oldEnd := now.Add(-72 * time.Hour)
	mustAppend(t, s, series("old", "sensors", oldEnd.Add(-6*time.Hour+10*time.Second), 6*360, 10*time.Second)...)
	mustAppend(t, s, series("del", "sensors", now.Add(-48*time.Hour), 10, time.Minute)...)
	mustAppend(t, s, series("mid", "devices", now.Add(-5*time.Hour), 3, time.Second)...)
	mustAppend(t, s, series("live", "sensors", now.Add(-time.Minute), 60, time.Second)...)
	// live: a shifted duplicate at its newest millisecond, then an older
	// reading within the out-of-order window.
	last := now.Add(-time.Second)
	mustAppend(t, s, point("sensors_temperature", last, tags("device_id", "live", "device_type", "sensors", "location", "far"), "value", 1000))
	if res := mustAppend(t, s, point("sensors_temperature", now.Add(-30*time.Minute),
		tags("device_id", "live", "device_type", "sensors", "location", "far"), "value", -1)); res.Appended != 1 {
		t.Fatalf("out of order: %+v", res)
	}

	// Persist everything but the last hours into blocks, then delete the
	// last two readings of "del" (tombstones in its block).
	db, err := s.acquire()
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	delFrom := now.Add(-48*time.Hour + 8*time.Minute).UnixMilli()
	if err := db.Delete(context.Background(), delFrom, math.MaxInt64,
		labels.MustNewMatcher(labels.MatchEqual, "device_id", "del")); err != nil {
		t.Fatal(err)
	}
	nBlocks := len(db.Blocks())
	s.release()
	if nBlocks == 0 {
		t.Fatal("no blocks after Compact")
	}

	// borda has no delete API: the running index still has the deleted
	// samples; the rebuild must skip them.
	others := "device_id=live&device_id=mid&device_id=old"
	_, before, raw := getDevices(t, s.Handler(), "GET", others)
	want := map[string]string{ // device → last_seen
		"old":  rfc(oldEnd),
		"del":  rfc(now.Add(-48*time.Hour + 7*time.Minute)),
		"mid":  rfc(now.Add(-5*time.Hour + 2*time.Second)),
		"live": rfc(last.Add(time.Millisecond)),
	}
	check := func(t *testing.T, resp devicesResp, n int) {
		t.Helper()
		if len(resp.Data) != n {
			t.Fatalf("got %d devices: %+v", len(resp.Data), resp.Data)
		}
		for _, d := range resp.Data {
			if d.LastSeen != want[d.DeviceID] {
				t.Errorf("%s: last_seen %s, want %s", d.DeviceID, d.LastSeen, want[d.DeviceID])
			}
			if d.DeviceID == "live" {
				if m := d.Metrics["sensors_temperature"]; m.Value != 1000.0 || m.Timestamp != rfc(last.Add(time.Millisecond)) {
					t.Errorf("live temperature %+v", m)
				}
			}
			if d.DeviceID == "del" {
				if m := d.Metrics["sensors_temperature"]; m.Value != 7.0 || m.Timestamp != want["del"] {
					t.Errorf("del temperature %+v", m)
				}
			}
		}
	}
	check(t, before, 3)
	stop()

	s2, _, _ := startStore(t, cfg, dir)
	_, after, _ := getDevices(t, s2.Handler(), "GET", "")
	check(t, after, 4)
	if _, _, raw2 := getDevices(t, s2.Handler(), "GET", others); raw != raw2 {
		t.Errorf("before restart:\n%s\nafter:\n%s", raw, raw2)
	}

	// The rebuild again, directly, for its statistics.
	db, err = s2.acquire()
	if err != nil {
		t.Fatal(err)
	}
	defer s2.release()
	_, st, err := rebuildDevices(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("rebuild: %+v", st)
	if st.Series != 8 || st.Blocks == 0 || st.HeadSeries == 0 || st.HeadSeries == st.Series {
		t.Errorf("stats %+v: want 8 series, some in blocks only", st)
	}
	if st.ChunksRead > 2*st.Series {
		t.Errorf("read %d chunks for %d series", st.ChunksRead, st.Series)
	}
}

func TestDeviceIndex(t *testing.T) {
	ls := func(dev, name string) labels.Labels {
		return labels.FromStrings("__name__", name, "device_id", dev)
	}
	state := func(l labels.Labels) *seriesState { return &seriesState{lset: l, hash: l.Hash()} }
	ids := func(ix *deviceIndex) string {
		snaps, _ := ix.snapshot(&deviceFilter{before: math.MaxInt64, after: math.MinInt64}, math.MinInt64)
		var out []string
		for _, d := range snaps {
			for _, p := range d.picks {
				out = append(out, fmt.Sprintf("%s/%s@%d=%g", d.id, p.name, p.t, p.v))
			}
		}
		return strings.Join(out, " ")
	}

	t.Run("out of order and no device", func(t *testing.T) {
		ix := newDeviceIndex(10)
		a, b := state(ls("a", "m")), state(labels.FromStrings("__name__", "m", "host", "x"))
		ix.apply([]touch{{a, 10, 1}, {a, 5, 2}, {b, 10, 3}, {a, 11, 4}, {a, 7, 5}})
		if got := ids(ix); got != "a/m@11=4" {
			t.Errorf("got %q", got)
		}
		if b.dev != noDevice || ix.nSeries.Load() != 1 {
			t.Errorf("series without device_id indexed")
		}
	})
	t.Run("prune and re-resolve", func(t *testing.T) {
		ix := newDeviceIndex(10)
		a, b := state(ls("a", "m")), state(ls("b", "m"))
		ix.apply([]touch{{a, 10, 1}, {b, 20, 2}})
		if n := ix.prune(15); n != 1 || ix.nDevices.Load() != 1 {
			t.Fatalf("pruned %d, devices %d", n, ix.nDevices.Load())
		}
		if got := ids(ix); got != "b/m@20=2" {
			t.Errorf("after prune: %q", got)
		}
		ix.apply([]touch{{a, 30, 3}}) // a's cached entry was removed
		if got := ids(ix); got != "a/m@30=3 b/m@20=2" {
			t.Errorf("after re-resolve: %q", got)
		}
	})
	t.Run("query ignores entries older than the data", func(t *testing.T) {
		ix := newDeviceIndex(10)
		ix.apply([]touch{{state(ls("a", "m")), 10, 1}, {state(ls("b", "m")), 20, 2}})
		snaps, _ := ix.snapshot(&deviceFilter{before: math.MaxInt64, after: math.MinInt64}, 15)
		if len(snaps) != 1 || snaps[0].id != "b" {
			t.Errorf("got %+v", snaps)
		}
	})
	t.Run("cap evicts the oldest", func(t *testing.T) {
		ix := newDeviceIndex(4)
		for i := range 6 {
			ix.apply([]touch{{state(ls(fmt.Sprint("d", i), "m")), int64(100 - i), 0}})
		}
		// at the 5th insert one of 4 goes (the oldest, d3@97); at the 6th
		// again (d4@96).
		if got := ids(ix); got != "d0/m@100=0 d1/m@99=0 d2/m@98=0 d5/m@95=0" {
			t.Errorf("got %q", got)
		}
		if ix.evicted.Load() != 2 || ix.nSeries.Load() != 4 || ix.nDevices.Load() != 4 {
			t.Errorf("evicted %d series %d devices %d", ix.evicted.Load(), ix.nSeries.Load(), ix.nDevices.Load())
		}
	})
	t.Run("adopt applies the cap", func(t *testing.T) {
		rebuilt := newDeviceIndex(math.MaxInt)
		for i, d := range []string{"a", "b", "c"} {
			l := ls(d, "m")
			rebuilt.observe(l, l.Hash(), int64(10+i), 0)
		}
		ix := newDeviceIndex(2)
		ix.adopt(rebuilt)
		if got := ids(ix); got != "b/m@11=0 c/m@12=0" || ix.evicted.Load() != 1 || ix.nSeries.Load() != 2 {
			t.Errorf("got %q, evicted %d", got, ix.evicted.Load())
		}
	})
	t.Run("hash collision", func(t *testing.T) {
		ix := newDeviceIndex(10)
		a, b := ls("a", "m"), ls("b", "m")
		ix.mu.Lock()
		ea, eb := ix.resolveLocked(a, 42), ix.resolveLocked(b, 42)
		ea.t, eb.t = 1, 2
		if ix.getLocked(a, 42) != ea || ix.getLocked(b, 42) != eb || ix.n != 2 {
			t.Error("colliding entries not both found")
		}
		ix.removeLocked(ea)
		if ix.getLocked(b, 42) != eb || ix.getLocked(a, 42) != nil || len(ix.clashes) != 0 || ix.n != 1 {
			t.Error("remove with collision")
		}
		ix.mu.Unlock()
	})
}

func TestJSONFloat(t *testing.T) {
	for v, want := range map[float64]string{23.5: "23.5", 1e21: "1e+21", math.NaN(): `"NaN"`, math.Inf(1): `"+Inf"`, math.Inf(-1): `"-Inf"`} {
		if got, err := json.Marshal(jsonFloat(v)); err != nil || string(got) != want {
			t.Errorf("%v: %s %v, want %s", v, got, err, want)
		}
	}
}

// TestDevicesConcurrent runs appends and device queries concurrently (for
// the race detector).
func TestDevicesConcurrent(t *testing.T) {
	s, _, _ := startStore(t, DefaultConfig(), t.TempDir())
	base := time.Now().Add(-time.Minute)
	h := s.Handler()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				mustAppend(t, s, point("m", base.Add(time.Duration(i)*time.Millisecond),
					tags("device_id", fmt.Sprint("d", g%2), "device_type", "x"), "value", i, "q", g))
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/devices", nil))
			if rec.Code != http.StatusOK {
				t.Errorf("status %d", rec.Code)
			}
		}
	})
	wg.Wait()
	_, resp, _ := getDevices(t, h, "GET", "")
	if len(resp.Data) != 2 || resp.Data[0].Metrics["m"].Value != 49.0 {
		t.Errorf("got %+v", resp.Data)
	}
}

// TestDevicesRebuildOutOfOrderHead: a series whose newest sample is in the
// out-of-order head (older than the in-order head accepts) is found after a
// restart too.
func TestDevicesRebuildOutOfOrderHead(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.OutOfOrderWindow = 3 * time.Hour
	s, reg, stop := startStore(t, cfg, dir)
	now := time.Now().Truncate(time.Second)
	mustAppend(t, s, point("m", now, tags("device_id", "x"), "value", 1))
	for i, ts := range []time.Time{now.Add(-2 * time.Hour), now.Add(-150 * time.Minute)} {
		if res := mustAppend(t, s, point("m", ts, tags("device_id", "y"), "value", i)); res.Appended != 1 {
			t.Fatalf("out of order: %+v", res)
		}
	}
	if n := gatherValue(t, reg, "borda_prometheus_tsdb_head_out_of_order_samples_appended_total"); n != 2 {
		t.Fatalf("out-of-order samples appended: %v, want 2", n)
	}
	_, before, raw := getDevices(t, s.Handler(), "GET", "")
	if len(before.Data) != 2 || before.Data[1].LastSeen != rfc(now.Add(-2*time.Hour)) {
		t.Fatalf("before restart: %s", raw)
	}
	stop()
	s2, _, _ := startStore(t, cfg, dir)
	if _, _, raw2 := getDevices(t, s2.Handler(), "GET", ""); raw2 != raw {
		t.Errorf("before restart:\n%s\nafter:\n%s", raw, raw2)
	}
}

// gatherValue sums the values of the metric family name.
func gatherValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

// A collector stores the same device_id from several gateways (node
// label): each gateway's device is listed on its own, with its own latest
// values; the limit counts entries.
func TestDevicesSplitByNode(t *testing.T) {
	s, _, _ := startStore(t, DefaultConfig(), t.TempDir())
	at := time.Now().Truncate(time.Second).Add(-time.Minute)
	mustAppend(t, s,
		point("sensors_temperature", at, tags("device_id", "s1", "device_type", "sensors", "node", "edge-a"), "value", 20),
		point("sensors_temperature", at.Add(time.Second), tags("device_id", "s1", "device_type", "sensors", "node", "edge-b"), "value", 30),
		point("sensors_temperature", at, tags("device_id", "s2", "device_type", "sensors"), "value", 5),
	)
	type row struct {
		DeviceID string            `json:"device_id"`
		Node     string            `json:"node"`
		Metrics  map[string]metOut `json:"metrics"`
		Labels   map[string]string `json:"labels"`
	}
	get := func(params string) []row {
		t.Helper()
		_, _, body := getDevices(t, s.Handler(), http.MethodGet, params)
		var resp struct{ Data []row }
		if err := json.Unmarshal([]byte(body), &resp); err != nil {
			t.Fatal(err)
		}
		return resp.Data
	}
	got := get("")
	var desc []string
	for _, r := range got {
		desc = append(desc, fmt.Sprintf("%s@%s=%v/%s", r.DeviceID, r.Node, r.Metrics["sensors_temperature"].Value, r.Labels["node"]))
	}
	if want := "s1@edge-a=20/edge-a s1@edge-b=30/edge-b s2@=5/"; strings.Join(desc, " ") != want {
		t.Fatalf("devices %q, want %q", strings.Join(desc, " "), want)
	}
	if n := len(get("device_id=s1&limit=1")); n != 1 {
		t.Fatalf("limit=1 gave %d entries", n)
	}
	if n := len(get(url.Values{"match[]": {`{node="edge-b"}`}}.Encode())); n != 1 {
		t.Fatalf("match node=edge-b gave %d entries", n)
	}
}

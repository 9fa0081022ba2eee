package remotewrite

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"

	"github.com/borda-edge/borda/internal/telemetry"
)

func decode(t *testing.T, b []byte) []prompb.TimeSeries {
	t.Helper()
	var wr prompb.WriteRequest
	if err := wr.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	return wr.Timeseries
}

// TestAppendPoints: one series per field, named and labelled as borda's
// store names them, labels sorted; entries concatenate into one request.
func TestAppendPoints(t *testing.T) {
	ts := time.UnixMilli(1700000000123)
	pts := []telemetry.Point{
		{Measurement: "sensors_temperature", Tags: []telemetry.Tag{{Key: "Zone", Value: "z"}, {Key: "device_id", Value: "s1"},
			{Key: "empty", Value: ""}, {Key: "loc.name", Value: "hall"}},
			Fields: []telemetry.Field{{Key: "value", Value: 21.5}, {Key: "quality", Value: 0}}, Time: ts},
		{Measurement: "9lives", Fields: []telemetry.Field{{Key: "ø", Value: math.Inf(-1)}}, Time: ts},
		{Measurement: "bad", Tags: []telemetry.Tag{{Key: "__name__", Value: "x"}}, Fields: []telemetry.Field{{Key: "value", Value: 1}}},
		{Measurement: "clash", Tags: []telemetry.Tag{{Key: "a-b", Value: "1"}, {Key: "a_b", Value: "2"}}, Fields: []telemetry.Field{{Key: "value", Value: 1}}},
		{Measurement: "skipped_by_selection", Fields: []telemetry.Field{{Key: "value", Value: 1}}},
	}
	var f format
	keep := func(m string) bool { return m != "skipped_by_selection" }
	one, n, skipped := f.AppendPoints(nil, pts[:1], keep)
	all, n2, skipped2 := f.AppendPoints(bytes.Clone(one), pts[1:], keep)
	if n != 2 || skipped != 0 || n2 != 1 || skipped2 != 2 {
		t.Fatalf("counts %d %d %d %d", n, skipped, n2, skipped2)
	}
	got := decode(t, all)
	want := []string{
		`{Zone="z", __name__="sensors_temperature", device_id="s1", loc_name="hall"} 21.5 @1700000000123`, // byte order
		`{Zone="z", __name__="sensors_temperature_quality", device_id="s1", loc_name="hall"} 0 @1700000000123`,
		`{__name__="_9lives__"} -Inf @1700000000123`,
	}
	if len(got) != len(want) {
		t.Fatalf("%d series: %v", len(got), got)
	}
	for i, s := range got {
		if str := seriesString(s); str != want[i] {
			t.Errorf("series %d:\n got %s\nwant %s", i, str, want[i])
		}
	}
	if !bytes.Equal(all[:len(one)], one) {
		t.Error("first entry not kept as a prefix")
	}
}

func seriesString(s prompb.TimeSeries) string {
	var b bytes.Buffer
	b.WriteString("{")
	for i, l := range s.Labels {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(l.Name + `="` + l.Value + `"`)
	}
	b.WriteString("} ")
	for _, smp := range s.Samples {
		b.WriteString(strconv.FormatFloat(smp.Value, 'g', -1, 64) + " @" + strconv.FormatInt(smp.Timestamp, 10))
	}
	return b.String()
}

func TestAppendAlert(t *testing.T) {
	var f format
	a := telemetry.Alert{Rule: "hot", Type: "HIGH_TEMPERATURE", Severity: "critical", State: "resolved", Value: 85,
		Time: time.UnixMilli(5)}
	b, n := f.AppendAlert(nil, a)
	got := decode(t, b)
	if n != 1 || len(got) != 1 || seriesString(got[0]) !=
		`{__name__="borda_alert", rule="hot", severity="critical", state="resolved", type="HIGH_TEMPERATURE"} 85 @5` {
		t.Fatalf("%d %v", n, got)
	}
}

func TestSeriesNameLikeStore(t *testing.T) {
	for _, tc := range [][3]string{
		{"sensors_temperature", "value", "sensors_temperature"},
		{"sensors_temperature", "quality", "sensors_temperature_quality"},
		{"cpu", "usage.idle", "cpu_usage_idle"},
		{"1m", "load", "_1m_load"},
		{"a:b", "value", "a:b"},
		{"héat", "value", "h_at"},
	} {
		if got := telemetry.SeriesName(tc[0], tc[1]); got != tc[2] {
			t.Errorf("SeriesName(%q, %q) = %q, want %q", tc[0], tc[1], got, tc[2])
		}
	}
}

// FuzzSplit: any payload splits or errors without panicking; what our
// encoder wrote splits into one request per sample with the same series.
func FuzzSplit(f *testing.F) {
	var fm format
	seed, _, _ := fm.AppendPoints(nil, []telemetry.Point{{Measurement: "m", Tags: []telemetry.Tag{{Key: "k", Value: "v"}},
		Fields: []telemetry.Field{{Key: "value", Value: 1}, {Key: "x", Value: 2}}, Time: time.UnixMilli(7)}},
		func(string) bool { return true })
	f.Add(seed)
	f.Add([]byte{0x0a, 0x02, 0x0a, 0x00})
	f.Fuzz(func(t *testing.T, payload []byte) {
		parts, err := fm.Split(payload)
		if err != nil {
			return
		}
		var wr prompb.WriteRequest
		if err := wr.Unmarshal(payload); err != nil {
			t.Fatalf("Split accepted what Unmarshal refuses: %v", err)
		}
		n := 0
		for _, ts := range wr.Timeseries {
			n += len(ts.Samples)
		}
		if len(parts) != n {
			t.Fatalf("%d parts for %d samples", len(parts), n)
		}
		for _, p := range parts {
			var one prompb.WriteRequest
			if err := one.Unmarshal(p); err != nil || len(one.Timeseries) != 1 || len(one.Timeseries[0].Samples) != 1 {
				t.Fatalf("part %x: %v", p, err)
			}
		}
	})
}

// External labels are added to every series and alert unless the point
// carries the label itself (like Prometheus' external_labels).
func TestExternalLabels(t *testing.T) {
	f := format{ext: []telemetry.Tag{{Key: "node", Value: "edge-1"}, {Key: "site", Value: "plant-a"}}}
	pts := []telemetry.Point{
		{Measurement: "m", Tags: []telemetry.Tag{{Key: "device_id", Value: "d1"}}, Fields: []telemetry.Field{{Key: "value", Value: 1}}, Time: time.UnixMilli(7)},
		{Measurement: "m", Tags: []telemetry.Tag{{Key: "site", Value: "own"}}, Fields: []telemetry.Field{{Key: "value", Value: 2}}, Time: time.UnixMilli(7)},
	}
	b, _, _ := f.AppendPoints(nil, pts, func(string) bool { return true })
	b, _ = f.AppendAlert(b, telemetry.Alert{Rule: "hot", Value: 3, Time: time.UnixMilli(8)})
	var got []string
	for _, s := range decode(t, b) {
		got = append(got, seriesString(s))
	}
	want := []string{
		`{__name__="m", device_id="d1", node="edge-1", site="plant-a"} 1 @7`,
		`{__name__="m", node="edge-1", site="own"} 2 @7`,
		`{__name__="borda_alert", node="edge-1", rule="hot", site="plant-a"} 3 @8`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

package influx

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/telemetry"
	"github.com/borda-edge/borda/internal/testkit"
	"github.com/borda-edge/borda/internal/uplink/httpout"
)

// TestDeliver: 2000 points appended by 4 goroutines arrive in InfluxDB
// 1.x exactly once each, with gzip on and off.
func TestDeliver(t *testing.T) {
	s := testkit.StartInfluxd(t)
	for _, gz := range []bool{true, false} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			db := fmt.Sprintf("gzip_%v", gz)
			s.CreateDatabase(t, db)
			rec := testkit.NewRecorder(t, s.URL)
			cfg := testConfig(rec.URL)
			cfg.Database, cfg.Gzip, cfg.BatchSize = db, gz, 500
			r := start(t, cfg, t.TempDir())
			pts := readings("sensors_temperature", 0, 2000, time.Now().Add(-time.Hour))
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Go(func() {
					for i := g * 500; i < (g+1)*500; i += 25 {
						if err := r.O.Append(context.Background(), pts[i:i+25]); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			waitValues(t, s, db, "sensors_temperature", 2000)
			testkit.Eventually(t, waitLong, "80 entries acked", func() bool {
				return r.Metric(t, "borda_uplink_sent_total") == 80
			})
			if got := r.Metric(t, "borda_uplink_http_points_total", "result", "sent"); got != 2000 {
				t.Errorf("points sent = %v, want 2000", got)
			}
			checkHalf(t, s, db)
			for _, req := range rec.Requests() {
				if enc := req.Header.Get("Content-Encoding"); (enc == "gzip") != gz {
					t.Fatalf("Content-Encoding %q with gzip=%v", enc, gz)
				}
				if !strings.HasPrefix(req.URI, "/write?db="+db) {
					t.Fatalf("request to %s", req.URI)
				}
			}
			if got := r.Local.Statuses(); len(got) < 2 || got[0] != "offline" || got[len(got)-1] != "online" {
				t.Errorf("statuses %v, want offline … online", got)
			}
		})
	}
}

// checkHalf compares the second field of every stored point.
func checkHalf(t *testing.T, s *testkit.Influxd, db string) {
	t.Helper()
	for _, ser := range s.Query(t, db, `SELECT value, half FROM "sensors_temperature"`) {
		for _, row := range ser.Values {
			v, _ := row[1].(interface{ Float64() (float64, error) }).Float64()
			h, _ := row[2].(interface{ Float64() (float64, error) }).Float64()
			if h != v/2 {
				t.Fatalf("value %v has half %v", v, h)
			}
		}
	}
}

// TestEscaping: names and values with line protocol's special characters
// come back from InfluxDB 1.x as they were; non-finite fields are left
// out and a point without a finite field is skipped and counted.
func TestEscaping(t *testing.T) {
	s := testkit.StartInfluxd(t)
	s.CreateDatabase(t, "borda")
	r := start(t, testConfig(s.URL), t.TempDir())
	now := time.Now().Truncate(time.Millisecond)
	nan := telemetry.Field{Key: "nan", Value: math.NaN()}
	pts := []telemetry.Point{
		{Measurement: "weird meas,1", Tags: []telemetry.Tag{{Key: "loc", Value: "a b,c=d"}, {Key: "path", Value: `C:\dir`}},
			Fields: []telemetry.Field{{Key: "my field=x", Value: 1.5}, nan}, Time: now},
		{Measurement: "numbers", Tags: []telemetry.Tag{{Key: "empty", Value: ""}, {Key: "note", Value: "two\nlines"}},
			Fields: []telemetry.Field{{Key: "big", Value: 1e21}, {Key: "small", Value: -2.5e-7}, {Key: "zero", Value: 0}}, Time: now},
		{Measurement: "only_nan", Fields: []telemetry.Field{nan}, Time: now},
	}
	if err := r.O.Append(context.Background(), pts); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"numbers":      `map[note:two\nlines] [time big small zero] [1e+21 -2.5e-7 0]`,
		"weird meas,1": `map[loc:a b,c=d path:C:\dir] [time my field=x] [1.5]`,
	}
	for m, w := range want {
		var got []testkit.InfluxSeries
		testkit.Eventually(t, waitLong, m, func() bool {
			got = s.Query(t, "borda", fmt.Sprintf("SELECT * FROM %q GROUP BY *", m))
			return len(got) > 0
		})
		if g := fmt.Sprintf("%v %v %v", got[0].Tags, got[0].Columns, got[0].Values[0][1:]); len(got) != 1 || g != w {
			t.Errorf("%q:\n got %s\nwant %s", m, g, w)
		}
	}
	if n := r.Metric(t, "borda_uplink_http_points_total", "result", "skipped"); n != 1 {
		t.Errorf("skipped = %v, want 1 (only_nan)", n)
	}
}

// TestServerDownAtStart: Run starts with InfluxDB down, Append keeps
// working (the points are durable), everything arrives once it is up;
// the status goes offline → online. A second output on the same data dir
// delivers a backlog its closed predecessor left.
func TestServerDownAtStart(t *testing.T) {
	s := testkit.NewInfluxd(t)
	dir := t.TempDir()
	r := start(t, testConfig(s.URL), dir)
	appendAll(t, r.O, readings("m", 0, 300, time.Now().Add(-time.Hour)), 100)
	testkit.Eventually(t, waitLong, "failed attempts", func() bool {
		return r.Metric(t, "borda_uplink_connect_failures_total") >= 2
	})
	r.Close(t)
	if err := r.O.Append(context.Background(), readings("m", 300, 1, time.Now())); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Run: %v, want ErrClosed", err)
	}
	r2 := start(t, testConfig(s.URL), dir) // the backlog of r
	appendAll(t, r2.O, readings("m", 300, 200, time.Now().Add(-time.Hour)), 100)
	s.Start(t)
	s.CreateDatabase(t, "borda")
	waitValues(t, s, "borda", "m", 500)
	testkit.Eventually(t, waitLong, "online", func() bool {
		st := r2.Local.Statuses()
		return len(st) >= 2 && st[0] == "offline" && st[len(st)-1] == "online"
	})
}

// TestServerKilled: InfluxDB is killed (SIGKILL) while points stream in
// and restarted on the same data: nothing is missing (re-sent points
// overwrite themselves in InfluxDB, so duplicates cannot be seen there;
// the resends are counted by the output's metrics).
func TestServerKilled(t *testing.T) {
	s := testkit.StartInfluxd(t)
	s.CreateDatabase(t, "borda")
	rec := testkit.NewRecorder(t, s.URL)
	cfg := testConfig(rec.URL)
	cfg.BatchSize = 200
	r := start(t, cfg, t.TempDir())
	base := time.Now().Add(-time.Hour)
	const calls, per = 30, 100
	errc := make(chan error, 1)
	killed := make(chan struct{})
	go func() {
		defer close(errc)
		for i := range calls {
			if i == 10 {
				close(killed)
			}
			if err := r.O.Append(context.Background(), readings("stream", i*per, per, base)); err != nil {
				errc <- err
				return
			}
			time.Sleep(30 * time.Millisecond)
		}
	}()
	<-killed
	s.Kill(t)
	time.Sleep(300 * time.Millisecond)
	s.Start(t)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	waitValues(t, s, "borda", "stream", calls*per)
	accepted := map[string]int{}
	for _, req := range rec.Requests() {
		if req.Status == 204 {
			for _, l := range gunzipLines(t, req) {
				accepted[l]++
			}
		}
	}
	dups := 0
	for _, n := range accepted {
		dups += n - 1
	}
	t.Logf("lines accepted more than once: %d (InfluxDB keeps one); failed requests %v, entries retried %v",
		dups, r.Metric(t, "borda_uplink_connect_failures_total"), r.Metric(t, "borda_uplink_retries_total"))
}

// TestDatabaseMissing: 404 "database not found" is a configuration
// problem, retried (never dead-lettered) until the database exists.
func TestDatabaseMissing(t *testing.T) {
	s := testkit.StartInfluxd(t)
	r := start(t, testConfig(s.URL), t.TempDir())
	appendAll(t, r.O, readings("m", 0, 100, time.Now().Add(-time.Hour)), 50)
	testkit.Eventually(t, waitLong, "two 404 answers", func() bool {
		return r.Metric(t, "borda_uplink_http_requests_total", "code", "404") >= 2
	})
	s.CreateDatabase(t, "borda")
	waitValues(t, s, "borda", "m", 100)
	if n := r.Metric(t, "borda_uplink_http_points_total", "result", "dead_letter"); n != 0 {
		t.Errorf("%v points dead-lettered", n)
	}
}

// gunzipLines returns the lines of a recorded request body.
func gunzipLines(t *testing.T, req testkit.RecordedRequest) []string {
	t.Helper()
	body := req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
}

// TestDeadLetter: InfluxDB refuses a float for a field it holds as an
// integer (400 field type conflict). The batch is bisected down to the
// refused points, inside a mixed entry too: only those two points are
// dead-lettered (reason http_400, with the server's message), every
// other point is delivered.
func TestDeadLetter(t *testing.T) {
	s := testkit.StartInfluxd(t)
	s.CreateDatabase(t, "borda")
	base := time.Now().Add(-time.Hour)
	// Field types are per shard: the integer must be in the points' shard.
	s.Write(t, "borda", fmt.Sprintf("conflict value=1i %d", base.Add(-time.Second).UnixNano()))
	dir := t.TempDir()
	cfg := testConfig(s.URL)
	cfg.FlushInterval = time.Second // the four appends make one batch
	r := start(t, cfg, dir)
	conflict := func(v float64) telemetry.Point {
		return telemetry.Point{Measurement: "conflict", Fields: []telemetry.Field{{Key: "value", Value: v}}, Time: base}
	}
	mixed := append(append(readings("good", 10, 5, base), conflict(7.5)), readings("good", 15, 5, base)...)
	for _, pts := range [][]telemetry.Point{readings("good", 0, 10, base), mixed, {conflict(8.5)}, readings("good", 20, 10, base)} {
		if err := r.O.Append(context.Background(), pts); err != nil {
			t.Fatal(err)
		}
	}
	waitValues(t, s, "borda", "good", 30)
	testkit.Eventually(t, waitLong, "2 entries dead-lettered, 2 sent", func() bool {
		return r.Metric(t, "borda_uplink_dropped_total", "reason", "http_400") == 2 &&
			r.Metric(t, "borda_uplink_sent_total") == 2
	})
	if n := r.Metric(t, "borda_uplink_http_points_total", "result", "dead_letter"); n != 2 {
		t.Errorf("dead-lettered points = %v, want 2", n)
	}
	t.Logf("requests: %v with 400, %v with 204", r.Metric(t, "borda_uplink_http_requests_total", "code", "400"),
		r.Metric(t, "borda_uplink_http_requests_total", "code", "204"))
	r.Close(t)
	dls, err := httpout.ReadDeadLetters(httpout.DeadLetterPath(dir, "influx1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dls) != 2 {
		t.Fatalf("%d dead letters, want 2: %+v", len(dls), dls)
	}
	for i, want := range []string{"conflict value=7.5 ", "conflict value=8.5 "} {
		d := dls[i]
		if d.Reason != "http_400" || !strings.Contains(d.Response, "field type conflict") ||
			d.Points != 1 || !strings.HasPrefix(string(d.Payload), want) {
			t.Errorf("dead letter %d: %s %q %d %q", i, d.Reason, d.Response, d.Points, d.Payload)
		}
	}
}

// TestPriority: alerts appended after a backlog of telemetry arrive
// first, in order, then the telemetry in order (asserted on the requests
// InfluxDB accepted, in arrival order).
func TestPriority(t *testing.T) {
	s := testkit.NewInfluxd(t)
	rec := testkit.NewRecorder(t, s.URL)
	cfg := testConfig(rec.URL)
	cfg.BatchSize = 50
	r := start(t, cfg, t.TempDir())
	appendAll(t, r.O, readings("tele", 0, 200, time.Now().Add(-time.Hour)), 10)
	for i := range 3 {
		a := telemetry.Alert{Rule: "hot", Type: "HIGH_TEMPERATURE", Severity: "critical", State: "firing",
			DeviceID: fmt.Sprintf("s%d", i), Value: float64(80 + i), Time: time.Now().Add(time.Duration(i) * time.Millisecond)}
		if err := r.O.AppendAlert(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	s.Start(t)
	s.CreateDatabase(t, "borda")
	waitValues(t, s, "borda", "tele", 200)
	var got []string
	for _, req := range rec.Requests() {
		if req.Status == 204 {
			got = append(got, gunzipLines(t, req)...)
		}
	}
	if len(got) != 203 {
		t.Fatalf("%d lines accepted, want 203", len(got))
	}
	for i, line := range got {
		want := fmt.Sprintf("tele,device_id=d%d,location=hall value=%d,", (i-3)%4, i-3)
		if i < 3 {
			want = fmt.Sprintf("borda_alerts,device_id=s%d,rule=hot,severity=critical,state=firing,type=HIGH_TEMPERATURE value=%d ", i, 80+i)
		}
		if !strings.HasPrefix(line, want) {
			t.Fatalf("line %d = %q, want prefix %q", i, line, want)
		}
	}
}

// TestRetention: with the server down and a small queue, the oldest
// entries are dropped and counted; exactly the newest ones are delivered.
func TestRetention(t *testing.T) {
	s := testkit.NewInfluxd(t)
	cfg := testConfig(s.URL)
	cfg.Queue.MaxBytes = 6000
	r := start(t, cfg, t.TempDir())
	appendAll(t, r.O, readings("ret", 0, 200, time.Now().Add(-time.Hour)), 10) // 20 entries of ~700 bytes
	// An attempt that started while the queue dropped its entries still
	// sends them; two more failed attempts mean the next batch is read
	// from the queue after the last drop.
	f0 := r.Metric(t, "borda_uplink_connect_failures_total")
	testkit.Eventually(t, waitLong, "two failed attempts after the appends", func() bool {
		return r.Metric(t, "borda_uplink_connect_failures_total") >= f0+2
	})
	dropped := int(r.Metric(t, "borda_uplink_queue_dropped_total", "reason", "max_bytes"))
	kept := int(r.Metric(t, "borda_uplink_queue_entries", "priority", "low"))
	if dropped < 5 || dropped+kept != 20 {
		t.Fatalf("dropped %d, kept %d of 20 entries", dropped, kept)
	}
	s.Start(t)
	s.CreateDatabase(t, "borda")
	first := dropped * 10
	testkit.Eventually(t, waitLong, "the kept entries", func() bool { return len(values(t, s, "borda", "ret")) >= 200-first })
	got := values(t, s, "borda", "ret")
	for v := range 200 {
		if (v >= first) != (got[v] == 1) {
			t.Fatalf("value %d: stored %d times (first kept value %d)", v, got[v], first)
		}
	}
}

// TestPrecision: each precision's query parameter is the one InfluxDB 1.x
// understands: a point's time comes back truncated to the unit.
func TestPrecision(t *testing.T) {
	s := testkit.StartInfluxd(t)
	ts := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)
	for _, p := range []string{"ns", "us", "ms", "s"} {
		t.Run(p, func(t *testing.T) {
			db := "prec_" + p
			s.CreateDatabase(t, db)
			cfg := testConfig(s.URL)
			cfg.Name, cfg.Database, cfg.Precision = "p-"+p, db, p
			r := start(t, cfg, t.TempDir())
			if err := r.O.Append(context.Background(), readings("m", 0, 1, ts)); err != nil {
				t.Fatal(err)
			}
			unit, _ := precisionOf(p)
			want := ts.Truncate(unit.unit).UnixNano()
			testkit.Eventually(t, waitLong, "the point at "+p, func() bool {
				got := s.Query(t, db, `SELECT value FROM "m"`)
				return len(got) == 1 && fmt.Sprint(got[0].Values[0][0]) == fmt.Sprint(want)
			})
		})
	}
}

// TestPauseResume: a paused output sends nothing (the connectivity
// monitor said the network is down) while Append keeps queueing; after
// Resume every point arrives.
func TestPauseResume(t *testing.T) {
	s := testkit.StartInfluxd(t)
	s.CreateDatabase(t, "paused")
	cfg := testConfig(s.URL)
	cfg.Database = "paused"
	r := start(t, cfg, t.TempDir())
	r.O.Pause()
	appendAll(t, r.O, readings("sensors_temperature", 0, 100, time.Now().Add(-time.Hour)), 10)
	time.Sleep(300 * time.Millisecond) // several flush intervals
	if got := values(t, s, "paused", "sensors_temperature"); len(got) != 0 {
		t.Fatalf("paused output delivered %d points", len(got))
	}
	r.O.Resume()
	waitValues(t, s, "paused", "sensors_temperature", 100)
}

package remotewrite

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/telemetry"
	"github.com/borda-edge/borda/internal/testkit"
	"github.com/borda-edge/borda/internal/uplink/httpout"
)

// TestDeliverVictoria: 2000 points with two fields arrive in
// VictoriaMetrics as 4000 samples named like borda's store names them,
// with the protocol's headers plus the configured ones; alerts arrive as
// borda_alert series.
func TestDeliverVictoria(t *testing.T) {
	s := testkit.StartVictoria(t)
	rec := testkit.NewRecorder(t, s.URL)
	cfg := testConfig(rec.URL + "/api/v1/write")
	cfg.BearerToken, cfg.Headers = "tok", map[string]string{"X-Scope-OrgID": "site1"}
	r := start(t, cfg, t.TempDir())
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	appendAll(t, r.O, readings("sensors_temperature", 0, 2000, base), 50)
	alert := telemetry.Alert{Rule: "hot", Type: "HIGH_TEMPERATURE", Severity: "critical", State: "firing",
		DeviceID: "d1", Value: 85, Time: base}
	if err := r.O.AppendAlert(context.Background(), alert); err != nil {
		t.Fatal(err)
	}
	var value samples
	testkit.Eventually(t, waitLong, "2000 samples", func() bool {
		value = victoriaSamples(t, s, "sensors_temperature")
		return len(value.byTime) >= 2000
	})
	checkReadings(t, value, base, 2000, false)
	checkReadings(t, victoriaSamples(t, s, "sensors_temperature_half"), base, 2000, true)
	series, err := s.Export(`borda_alert{rule="hot",type="HIGH_TEMPERATURE",severity="critical",state="firing",device_id="d1"}`)
	if err != nil || len(series) != 1 || series[0].Values[0] != 85 {
		t.Fatalf("alert series %+v %v", series, err)
	}
	for _, req := range rec.Requests() {
		h := req.Header
		if h.Get("Content-Encoding") != "snappy" || h.Get("Content-Type") != "application/x-protobuf" ||
			h.Get("X-Prometheus-Remote-Write-Version") != "0.1.0" || h.Get("Authorization") != "Bearer tok" ||
			h.Get("X-Scope-Orgid") != "site1" {
			t.Fatalf("headers %v", h)
		}
	}
	testkit.Eventually(t, waitLong, "41 entries acked", func() bool { return r.Metric(t, "borda_uplink_sent_total") == 41 })
}

// TestDeliverPrometheus: 500 points reach Prometheus' remote-write
// receiver, every sample exactly.
func TestDeliverPrometheus(t *testing.T) {
	s := testkit.StartPrometheus(t)
	r := start(t, testConfig(s.URL+"/api/v1/write"), t.TempDir())
	base := time.Now().Add(-5 * time.Minute).Truncate(time.Millisecond)
	appendAll(t, r.O, readings("sensors_pressure", 0, 500, base), 100)
	var got samples
	testkit.Eventually(t, waitLong, "500 samples", func() bool {
		series, err := s.Samples("sensors_pressure", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		got = samples{byTime: map[int64]float64{}}
		for _, rs := range series {
			for i, ts := range rs.Times {
				got.byTime[ts] = rs.Values[i]
			}
		}
		return len(got.byTime) >= 500
	})
	checkReadings(t, got, base, 500, false)
}

// TestOutages: VictoriaMetrics is down when Run starts (points queue),
// then started: all arrive; then it is stopped while points stream in and
// started again: 0 missing; duplicates (resent after a lost answer) are
// counted and logged.
func TestOutages(t *testing.T) {
	s := testkit.NewVictoria(t)
	r := start(t, testConfig(s.URL+"/api/v1/write"), t.TempDir())
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	appendAll(t, r.O, readings("m", 0, 500, base), 100)
	testkit.Eventually(t, waitLong, "failed attempts", func() bool {
		return r.Metric(t, "borda_uplink_connect_failures_total") >= 2
	})
	s.Start(t)
	testkit.Eventually(t, waitLong, "500 samples", func() bool { return len(victoriaSamples(t, s, "m").byTime) >= 500 })
	const calls, per = 30, 100
	errc := make(chan error, 1)
	stopAt := make(chan struct{})
	go func() {
		defer close(errc)
		for i := 5; i < calls; i++ {
			if i == 12 {
				close(stopAt)
			}
			if err := r.O.Append(context.Background(), readings("m", i*per, per, base)); err != nil {
				errc <- err
				return
			}
			time.Sleep(30 * time.Millisecond)
		}
	}()
	<-stopAt
	s.Stop(t)
	time.Sleep(300 * time.Millisecond)
	s.Start(t)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	var got samples
	testkit.Eventually(t, waitLong, "3000 samples", func() bool {
		got = victoriaSamples(t, s, "m")
		return len(got.byTime) >= calls*per
	})
	checkReadings(t, got, base, calls*per, false)
	t.Logf("duplicates stored: %d; failed requests %v, entries retried %v", got.raw-len(got.byTime),
		r.Metric(t, "borda_uplink_connect_failures_total"), r.Metric(t, "borda_uplink_retries_total"))
	if st := r.Local.Statuses(); len(st) < 4 || st[0] != "offline" || st[len(st)-1] != "online" {
		t.Errorf("statuses %v, want offline, online, offline, online", st)
	}
}

// TestOutOfOrder: Prometheus refuses a sample older than the newest of
// its series with 400 (out of order), rolling back the whole request.
// Bisection delivers every other sample of the batch, also those in the
// same entry, and dead-letters only the old one.
func TestOutOfOrder(t *testing.T) {
	s := testkit.StartPrometheus(t)
	dir := t.TempDir()
	cfg := testConfig(s.URL + "/api/v1/write")
	cfg.FlushInterval = time.Second // the appends below make one batch
	r := start(t, cfg, dir)
	now := time.Now().Truncate(time.Millisecond)
	first := readings("seq", 0, 1, now)
	appendAll(t, r.O, first, 1)
	testkit.Eventually(t, waitLong, "the first entry", func() bool { return r.Metric(t, "borda_uplink_sent_total") == 1 })
	late := readings("seq", 0, 1, now.Add(-time.Minute)) // same series, older
	late[0].Fields = late[0].Fields[:1]
	late[0].Fields[0].Value = -1
	mixed := append(append(readings("other", 0, 5, now), late...), readings("other", 5, 5, now)...)
	appendAll(t, r.O, mixed, len(mixed))
	appendAll(t, r.O, readings("other", 10, 10, now), 10)
	testkit.Eventually(t, waitLong, "1 entry dead-lettered, 2 more sent", func() bool {
		return r.Metric(t, "borda_uplink_dropped_total", "reason", "http_400") == 1 &&
			r.Metric(t, "borda_uplink_sent_total") == 2
	})
	series, err := s.Samples("other", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, rs := range series {
		n += len(rs.Values)
	}
	if n != 20 {
		t.Errorf("%d samples of other, want 20", n)
	}
	r.Close(t)
	dls, err := httpout.ReadDeadLetters(httpout.DeadLetterPath(dir, "rw1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dls) != 1 || dls[0].Points != 1 || dls[0].Reason != "http_400" || !strings.Contains(dls[0].Response, "out of order") {
		t.Fatalf("dead letters %+v", dls)
	}
	var f format
	if parts, err := f.Split(dls[0].Payload); err != nil || len(parts) != 1 {
		t.Fatalf("dead letter payload: %v", err)
	}
}

// TestPriority: alerts appended after a telemetry backlog arrive first,
// then the telemetry in order (asserted on the accepted requests, in
// arrival order).
func TestPriority(t *testing.T) {
	s := testkit.NewVictoria(t)
	rec := testkit.NewRecorder(t, s.URL)
	cfg := testConfig(rec.URL + "/api/v1/write")
	cfg.BatchSize = 40
	r := start(t, cfg, t.TempDir())
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	appendAll(t, r.O, readings("tele", 0, 100, base), 5) // 20 entries of 10 samples
	for i := range 3 {
		a := telemetry.Alert{Rule: "hot", Type: "HIGH_TEMPERATURE", Severity: "critical", State: "firing",
			DeviceID: fmt.Sprintf("s%d", i), Value: float64(i), Time: base}
		if err := r.O.AppendAlert(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	s.Start(t)
	testkit.Eventually(t, waitLong, "23 entries sent", func() bool { return r.Metric(t, "borda_uplink_sent_total") == 23 })
	var got []string
	for _, req := range rec.Requests() {
		if req.Status/100 == 2 {
			for _, ts := range decodeBody(t, req.Body) {
				got = append(got, fmt.Sprintf("%s=%g", ts.Labels[0].Value, ts.Samples[0].Value))
			}
		}
	}
	var want []string
	for i := range 3 {
		want = append(want, fmt.Sprintf("borda_alert=%d", i))
	}
	for i := range 100 {
		want = append(want, fmt.Sprintf("tele=%d", i), fmt.Sprintf("tele_half=%g", float64(i)/2))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("arrival order\n got %v\nwant %v", got, want)
	}
}

// TestTLS: an HTTPS server is reached with its CA in tls.ca_file; without
// it the certificate is refused and retried (never dead-lettered).
func TestTLS(t *testing.T) {
	s, ca := testkit.StartVictoriaTLS(t)
	cfg := testConfig(s.URL + "/api/v1/write")
	untrusted := start(t, cfg, t.TempDir())
	appendAll(t, untrusted.O, readings("tls_untrusted", 0, 10, time.Now()), 10)
	testkit.Eventually(t, waitLong, "refused certificate", func() bool {
		return untrusted.Metric(t, "borda_uplink_connect_failures_total") >= 1
	})
	cfg.Name, cfg.TLS.CAFile = "rw2", ca
	r := start(t, cfg, t.TempDir())
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	appendAll(t, r.O, readings("tls", 0, 100, base), 50)
	testkit.Eventually(t, waitLong, "100 samples over TLS", func() bool { return len(victoriaSamples(t, s, "tls").byTime) >= 100 })
	if n := untrusted.Metric(t, "borda_uplink_sent_total"); n != 0 {
		t.Errorf("untrusted output sent %v entries", n)
	}
}

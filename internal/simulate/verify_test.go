package simulate

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/ingest"
	"github.com/borda-edge/borda/internal/store"
	"github.com/borda-edge/borda/internal/telemetry"
	"github.com/prometheus/client_golang/prometheus"
)

// startStore runs borda's store in-process and serves its query API.
func startStore(t *testing.T) (*store.Store, string) {
	t.Helper()
	s := store.New(store.DefaultConfig(), store.Deps{Registry: prometheus.NewRegistry(), Dir: t.TempDir()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("store: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("store not ready after 30s")
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		srv.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("store: %v", err)
		}
	})
	return s, srv.URL
}

// fleetReport generates n messages of a fleet (base time: now - age, step
// apart), routes them through borda's ingest and returns the report of
// what was sent and the points, by device id, in sending order.
func fleetReport(t *testing.T, cfg Config, n int, age, step time.Duration) (Report, map[string][]telemetry.Point) {
	t.Helper()
	cfg.Broker, cfg.Count = "tcp://127.0.0.1:1", int64(n)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	r, err := ingest.NewRouter(ingest.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	devs := newFleet(&cfg)
	pts := map[string][]telemetry.Point{}
	now := time.Now().Add(-age).UnixNano()
	for i := range n {
		d := devs[i%len(devs)]
		topic, payload, cls := d.emit(nil, now)
		now += int64(step)
		got, err := r.Route(string(topic), payload, time.Now(), nil)
		if (err != nil) != (cls == classMalformed) {
			t.Fatalf("%s %s: %v", topic, payload, err)
		}
		pts[d.id] = append(pts[d.id], got...)
	}
	rep := Report{DevicePrefix: cfg.DevicePrefix, Devices: map[string]DeviceCount{}}
	rep.addDevices(devs)
	return rep, pts
}

func TestVerifyAgainstStoreWithKnownContents(t *testing.T) {
	s, url := startStore(t)
	// 2.5 minutes of readings (three one-minute query chunks), 10 minutes ago
	rep, pts := fleetReport(t, Config{Devices: 12, Profile: ProfileMixed, Seed: 5, MalformedRate: 0.05, AnomalyRate: 0.1, DevicePrefix: "vt"},
		3000, 10*time.Minute, 50*time.Millisecond)
	drop := map[string]int{"vt-00003": 7, "vt-00010": 1, "vt-00007": 100} // readings not stored, per device
	var stored []telemetry.Point
	for id, ps := range pts {
		k := min(drop[id], len(ps))
		stored = append(stored, ps[k:]...)
	}
	// an unrelated series of another run with the same prefix: extra
	stored = append(stored, telemetry.Point{Measurement: "sensors_temperature", Time: rep.DataStart.Add(time.Second),
		Tags: []telemetry.Tag{{Key: "device_id", Value: "vt-99999"}}, Fields: []telemetry.Field{{Key: "value", Value: 1}}})
	res, err := s.Append(context.Background(), stored)
	if err != nil || len(res.Rejected) > 0 {
		t.Fatalf("append: %+v, %v", res, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	vr, err := Verify(ctx, url, rep, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantMissing := int64(7 + 1 + 100)
	if vr.Expected != rep.Readings || vr.Missing != wantMissing || vr.Stored != rep.Readings-wantMissing || vr.Extra != 1 || vr.OK() {
		t.Fatalf("verify %+v; want expected %d, missing %d, extra 1", vr, rep.Readings, wantMissing)
	}
	for id, n := range drop {
		if vr.MissingByDevice[id] != int64(n) {
			t.Errorf("missing %s = %d, want %d (all: %v)", id, vr.MissingByDevice[id], n, vr.MissingByDevice)
		}
	}
	if len(vr.MissingByDevice) != len(drop) {
		t.Errorf("missing by device %v", vr.MissingByDevice)
	}
}

func TestVerifyComplete(t *testing.T) {
	s, url := startStore(t)
	rep, pts := fleetReport(t, Config{Devices: 30, Profile: ProfileCity, Seed: 1}, 6000, time.Minute, 100*time.Microsecond)
	for _, ps := range pts {
		if _, err := s.Append(context.Background(), ps); err != nil {
			t.Fatal(err)
		}
	}
	vr, err := Verify(context.Background(), url, rep, time.Second)
	if err != nil || !vr.OK() || vr.Stored != 6000 || vr.Extra != 0 || vr.MissingByDevice != nil {
		t.Fatalf("verify %+v, %v", vr, err)
	}
}

func TestVerifyErrors(t *testing.T) {
	rep := Report{DevicePrefix: "x", DataStart: time.Now(), DataEnd: time.Now(),
		Devices: map[string]DeviceCount{"x-00000": {Readings: 1, Series: map[string]int64{"sensors_temperature": 1}}}}
	srv := httptest.NewServer(nil) // 404 for everything
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, url := range []string{srv.URL, "http://127.0.0.1:1", "::bad"} {
		if _, err := Verify(ctx, url, rep, 0); err == nil {
			t.Errorf("Verify(%s) did not fail", url)
		}
	}
	if _, err := Verify(ctx, srv.URL, rep, -time.Second); err == nil {
		t.Error("negative slack accepted")
	}
	vr, err := Verify(ctx, srv.URL, Report{}, 0)
	if err != nil || vr.Expected != 0 || !vr.OK() {
		t.Errorf("empty report: %+v, %v", vr, fmt.Sprint(err))
	}
}

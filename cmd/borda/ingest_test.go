package main

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt3 "github.com/eclipse/paho.mqtt.golang"
	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/borda-edge/borda/internal/testkit"
)

func promClient(t *testing.T, baseURL string) promv1.API {
	t.Helper()
	c, err := promapi.NewClient(promapi.Config{Address: baseURL})
	if err != nil {
		t.Fatal(err)
	}
	return promv1.NewAPI(c)
}

// queryScalar runs an instant query that must return one sample.
func queryScalar(t *testing.T, api promv1.API, q string) float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, _, _, err := api.Query(ctx, q, time.Now())
	if err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	vec, ok := v.(model.Vector)
	if !ok || len(vec) != 1 {
		t.Fatalf("query %s = %v, want one sample", q, v)
	}
	return float64(vec[0].Value)
}

// TestIngestSeedPayloadsEndToEnd publishes the seed's readings with real
// MQTT clients and reads them back through the Prometheus API with the
// Prometheus Go client.
func TestIngestSeedPayloadsEndToEnd(t *testing.T) {
	g := startGateway(t, testConfig(t))
	pub := v3Client(t, "tcp://"+g.mqttAddr(), "seed-sensor", true, nil)
	readings := []struct{ topic, payload string }{
		{"sensors/s1/temperature", `{"value":21,"location":"hall","quality":0.9}`},
		{"sensors/s1/temperature", `{"value":21.5,"location":"hall"}`},
		{"sensors/s2/humidity", `{"value":55.0}`},
		{"devices/d1/status", `{"value":1,"location":"line-2"}`},
		{"vehicles/v1/location", `{"lat":-23.55,"lon":-46.63,"speed":87.5,"value":1}`},
		{"sensors/s3/temperature", `23.25`},
		{"sensors/s1/temperature", `not json at all`},
	}
	for _, r := range readings {
		waitToken(t, "publish "+r.topic, pub.Publish(r.topic, 1, false, r.payload))
	}
	host, port, _ := net.SplitHostPort(g.mqttAddr())
	bin := testkit.RequireCommand(t, "mosquitto_pub", "mosquitto-clients")
	if out, err := exec.Command(bin, "-h", host, "-p", port, "-q", "1", "-t", "cameras/c1/detection",
		"-m", `{"value":3,"confidence":0.82}`).CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_pub: %v: %s", err, out)
	}

	api := promClient(t, g.httpURL())
	checks := map[string]float64{
		`count_over_time(sensors_temperature{device_id="s1",location="hall",device_type="sensors"}[1h])`: 2,
		`sensors_temperature{device_id="s1"}`:                    21.5,
		`sensors_temperature_quality{device_id="s1"}`:            1,
		`sensors_temperature{device_id="s3",location="unknown"}`: 23.25,
		`sensors_humidity{device_id="s2"}`:                       55,
		`devices_status{location="line-2"}`:                      1,
		`vehicles_location_speed{device_id="v1"}`:                87.5,
		`cameras_detection_confidence{device_id="c1"}`:           0.82,
	}
	for q, want := range checks {
		if got := queryScalar(t, api, q); got != want {
			t.Errorf("%s = %v, want %v", q, got, want)
		}
	}
	if got := g.metric(t, `borda_ingest_rejected_total{reason="bad_json"}`) +
		g.metric(t, `borda_ingest_rejected_total{reason="not_numeric"}`); got != 1 {
		t.Errorf("rejected bad payloads = %v, want 1", got)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	values, _, _, err := api.LabelValues(ctx, "device_id", nil, time.Now().Add(-time.Hour), time.Now())
	if err != nil || len(values) != 6 {
		t.Errorf("device_id values = %v, %v; want 6 devices", values, err)
	}
	series, _, _, err := api.Series(ctx, []string{`{device_type="sensors"}`}, time.Now().Add(-time.Hour), time.Now())
	if err != nil || len(series) == 0 {
		t.Errorf("series = %v, %v", series, err)
	}
	r, _, _, err := api.QueryRange(ctx, `sensors_temperature`, promv1.Range{Start: time.Now().Add(-time.Minute), End: time.Now(), Step: time.Second})
	if err != nil || r.(model.Matrix).Len() != 2 {
		t.Errorf("query_range = %v, %v; want 2 series", r, err)
	}
}

// TestCrashKeepsAcknowledgedReadings kills borda with SIGKILL while four
// clients publish at QoS 1 concurrently, each with up to 64 publishes in
// flight, restarts it, and checks that every reading acknowledged before
// the kill is queryable (readings in flight may or may not be).
func TestCrashKeepsAcknowledgedReadings(t *testing.T) {
	bin := buildBorda(t)
	dataDir := t.TempDir()
	mqttPort, httpPort := testkit.FreePort(t), testkit.FreePort(t)
	cfgFile := writeFile(t, "borda.yaml", fmt.Sprintf(`data_dir: %s
broker:
  listeners: [{name: mqtt, protocol: mqtt, address: 127.0.0.1, port: %d}]
http: {address: 127.0.0.1, port: %d}
`, dataDir, mqttPort, httpPort))
	p := testkit.Start(t, bin, "run", "-c", cfgFile)
	mqttAddr := fmt.Sprintf("127.0.0.1:%d", mqttPort)
	testkit.WaitTCP(t, mqttAddr, 10*time.Second)

	const publishers = 4
	var total atomic.Int64
	acked := make([][]int, publishers)
	var wg sync.WaitGroup
	for n := range publishers {
		c := v3Client(t, "tcp://"+mqttAddr, fmt.Sprintf("crash-pub-%d", n), true, nil)
		wg.Go(func() { acked[n] = publishUntilBroken(c, fmt.Sprintf("sensors/crash-%d/temperature", n), &total) })
	}
	testkit.Eventually(t, 20*time.Second, "4000 readings acknowledged", func() bool { return total.Load() >= 4000 })
	_ = p.Cmd.Process.Kill() // mid-stream, with publishes in flight
	wg.Wait()
	p.WaitExit(t, 10*time.Second)

	p2 := testkit.Start(t, bin, "run", "-c", cfgFile)
	testkit.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", httpPort), 20*time.Second)
	api := promClient(t, fmt.Sprintf("http://127.0.0.1:%d", httpPort))
	for n := range publishers {
		stored := storedValues(t, api, fmt.Sprintf(`sensors_temperature{device_id="crash-%d"}[1h]`, n))
		for _, v := range acked[n] {
			if !stored[float64(v)] {
				t.Fatalf("publisher %d: reading %d was acknowledged before SIGKILL but is not stored (%d of %d acked stored)\n%s",
					n, v, len(stored), len(acked[n]), p2.Output())
			}
		}
		t.Logf("publisher %d: %d acknowledged before SIGKILL, %d stored after restart", n, len(acked[n]), len(stored))
	}
}

// publishUntilBroken publishes readings 0, 1, 2, ... at QoS 1 with up to
// 64 in flight until one fails (the broker was killed) or 200,000 were
// sent, and returns the values whose PUBACK arrived.
func publishUntilBroken(c mqtt3.Client, topic string, total *atomic.Int64) []int {
	type pending struct {
		v   int
		tok mqtt3.Token
	}
	var acked []int
	var window []pending
	wait := func(pd pending, d time.Duration) bool {
		if pd.tok.WaitTimeout(d) && pd.tok.Error() == nil {
			acked = append(acked, pd.v)
			total.Add(1)
			return true
		}
		return false
	}
	broken := false
	for v := 0; v < 200_000 && !broken; v++ {
		if len(window) == 64 {
			broken = !wait(window[0], 5*time.Second)
			window = window[1:]
		}
		window = append(window, pending{v, c.Publish(topic, 1, false, fmt.Sprintf(`{"value":%d}`, v))})
	}
	for _, pd := range window { // in flight at the kill: acked or not
		wait(pd, 200*time.Millisecond)
	}
	return acked
}

// storedValues runs an instant query for a range vector and returns the
// set of sample values. It is evaluated a minute ahead: readings of one
// series within one millisecond are moved to the next free millisecond, so
// a fast publisher's newest readings can be stamped slightly in the future.
func storedValues(t *testing.T, api promv1.API, q string) map[float64]bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, _, _, err := api.Query(ctx, q, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	out := map[float64]bool{}
	for _, ss := range v.(model.Matrix) {
		for _, sp := range ss.Values {
			out[float64(sp.Value)] = true
		}
	}
	return out
}

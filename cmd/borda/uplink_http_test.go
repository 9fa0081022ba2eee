package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/testkit"
	"github.com/borda-edge/borda/internal/uplink/influx"
	"github.com/borda-edge/borda/internal/uplink/remotewrite"
)

// TestUplinkHTTPOutputs: readings published over MQTT reach a real
// InfluxDB 1.x (line protocol) and a real VictoriaMetrics (remote_write)
// through borda's HTTP outputs, and an alert of the seed rules reaches
// both as borda_alerts / borda_alert.
func TestUplinkHTTPOutputs(t *testing.T) {
	idb := testkit.StartInfluxd(t)
	idb.CreateDatabase(t, "edge")
	vm := testkit.StartVictoria(t)

	cfg := testConfig(t)
	ic := influx.DefaultConfig()
	ic.Name, ic.URL, ic.Database, ic.FlushInterval = "influx", idb.URL, "edge", 100*time.Millisecond
	rc := remotewrite.DefaultConfig()
	rc.Name, rc.URL, rc.FlushInterval = "vm", vm.URL+"/api/v1/write", 100*time.Millisecond
	rc.Measurements = []string{"sensors_*"}
	cfg.Uplink.InfluxDB, cfg.Uplink.RemoteWrite = append(cfg.Uplink.InfluxDB, ic), append(cfg.Uplink.RemoteWrite, rc)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, cfg)
	c := v3Client(t, "tcp://"+g.mqttAddr(), "http-out-pub", true, nil)
	const n = 200
	for i := range n {
		v := 20 + float64(i%50)/10 // below the seed's 80 °C threshold
		if i == n-1 {
			v = 95 // HIGH_TEMPERATURE fires
		}
		waitToken(t, "publish", c.Publish(fmt.Sprintf("sensors/dev%d/temperature", i%4), 1, false,
			fmt.Sprintf(`{"value":%g,"location":"hall"}`, v)))
	}
	waitToken(t, "publish", c.Publish("vehicles/truck1/speed", 1, false, `{"value":50}`)) // not selected for vm

	testkit.Eventually(t, 30*time.Second, "200 readings in InfluxDB", func() bool {
		return influxCount(t, idb, `SELECT count("value") FROM "sensors_temperature"`) == n
	})
	testkit.Eventually(t, 30*time.Second, "the alert in InfluxDB", func() bool {
		return influxCount(t, idb, `SELECT count("value") FROM "`+influx.AlertMeasurement+`"`) >= 1
	})
	testkit.Eventually(t, 30*time.Second, "200 samples and the alert in VictoriaMetrics", func() bool {
		return vmSamples(vm, `sensors_temperature`) == n && vmSamples(vm, remotewrite.AlertSeries) >= 1
	})
	if got := vmSamples(vm, `{__name__=~"vehicles_.*"}`); got != 0 {
		t.Errorf("vm got %d vehicle samples; its selection is sensors_* only", got)
	}
	if got := influxCount(t, idb, `SELECT count("value") FROM "vehicles_speed"`); got != 1 {
		t.Errorf("influx has %d vehicle readings, want 1 (it selects everything)", got)
	}
}

func influxCount(t *testing.T, idb *testkit.Influxd, q string) int {
	t.Helper()
	series := idb.Query(t, "edge", q)
	if len(series) == 0 || len(series[0].Values) == 0 {
		return 0
	}
	var n int
	fmt.Sscan(fmt.Sprint(series[0].Values[0][1]), &n)
	return n
}

func vmSamples(vm *testkit.Victoria, match string) int {
	series, err := vm.Export(match)
	if err != nil {
		return -1
	}
	n := 0
	for _, s := range series {
		n += len(s.Values)
	}
	return n
}

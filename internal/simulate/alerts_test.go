package simulate

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/simulate/simtest"
)

func TestRuleFor(t *testing.T) {
	tests := []struct {
		typ, metric string
		want        ruleID
	}{
		{"sensors", "temperature", ruleTemperature},
		{"sensors", "pressure", rulePressure},
		{"vehicles", "location", ruleSpeed},
		{"sensors", "humidity", noRule},
		{"sensors", "vibration", noRule},
		{"devices", "status", noRule},
		{"cameras", "detection", noRule},
	}
	for _, tt := range tests {
		if got := ruleFor(tt.typ, tt.metric); got != tt.want {
			t.Errorf("ruleFor(%s, %s) = %d, want %d", tt.typ, tt.metric, got, tt.want)
		}
	}
}

// TestSeedRuleEdges feeds fixed reading sequences through each seed rule:
// '.' no event, 'F' the alert fires, 'R' it resolves. A rule fires on the
// first reading over its threshold (strictly greater), stays quiet while
// it holds, resolves on the first reading that is not over it, and can
// fire again.
func TestSeedRuleEdges(t *testing.T) {
	tests := []struct {
		name   string
		rule   ruleID
		values []float64
		want   string
	}{
		{"temperature", ruleTemperature, []float64{20, 80, 80.1, 85, 79.9, 81, 81, 80}, "..F.RF.R"},
		{"temperature over from the start", ruleTemperature, []float64{90, 90, 20, 20}, "F.R."},
		{"temperature whole numbers", ruleTemperature, []float64{79, 80, 81, 80, 81}, "..FRF"},
		{"temperature never over", ruleTemperature, []float64{-20, 0, 60, 80}, "...."},
		{"pressure", rulePressure, []float64{100, 100.5, 99.9, 100.1, 150, 100}, ".FRF.R"},
		{"pressure stuck over", rulePressure, []float64{101, 101, 101, 101}, "F..."},
		{"speed", ruleSpeed, []float64{121, 120, 120.1, 119.9, 0, 180}, "FRFR.F"},
		{"speed NaN is not over", ruleSpeed, []float64{130, math.NaN(), 130}, "FRF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &device{id: "t-00001"}
			s := &series{rule: tt.rule}
			var got strings.Builder
			for i, v := range tt.values {
				d.edge = alertEdge{}
				if out := d.checkRule(s, v, int64(1000+i)); !(out == v || math.IsNaN(v)) {
					t.Fatalf("reading %d: value changed from %v to %v without AlertRate", i, v, out)
				}
				switch d.edge.kind {
				case edgeNone:
					got.WriteByte('.')
				case edgeFiring:
					got.WriteByte('F')
				case edgeResolved:
					got.WriteByte('R')
				}
				if d.edge.kind != edgeNone && (d.edge.ts != int64(1000+i) || d.edge.rule != tt.rule ||
					(d.edge.value != v && !math.IsNaN(v)) || d.edge.forced) {
					t.Errorf("reading %d: edge %+v", i, d.edge)
				}
			}
			if got.String() != tt.want {
				t.Errorf("edges %s, want %s", got.String(), tt.want)
			}
		})
	}
}

// TestForcedReadingsAlternate: with AlertRate, a forced reading is over
// the threshold and always follows one that is not, so it starts an
// episode; a series that is already over is not forced again.
func TestForcedReadingsAlternate(t *testing.T) {
	for _, rule := range []ruleID{ruleTemperature, rulePressure, ruleSpeed} {
		p := process{spikeLo: 80.5, spike: 30, decimals: 0}
		switch rule {
		case rulePressure:
			p = process{spikeLo: 100.5, spike: 50, decimals: 1}
		case ruleSpeed:
			p = process{spikeLo: 121, spike: 60, decimals: 1}
		}
		cfg := Config{Devices: 1, Seed: 5}
		d := newFleet(&cfg)[0]
		d.alertQ = 1 // every reading that may be forced is
		s := &series{rule: rule, proc: p}
		var edges strings.Builder
		for i := range 10 {
			d.edge = alertEdge{}
			v := d.checkRule(s, 20, int64(i))
			switch {
			case d.edge.kind == edgeFiring && d.edge.forced && v > seedRules[rule].threshold:
				edges.WriteByte('F')
			case d.edge.kind == edgeResolved && v == 20:
				edges.WriteByte('R')
			default:
				t.Fatalf("%s reading %d: value %v, edge %+v", seedRules[rule].Type, i, v, d.edge)
			}
		}
		if edges.String() != "FRFRFRFRFR" {
			t.Errorf("%s: %s", seedRules[rule].Type, edges.String())
		}
		d.edge, s.over = alertEdge{}, true // over by itself (a drift): not forced, no new episode
		high := seedRules[rule].threshold + 5
		if v := d.checkRule(s, high, 99); v != high || d.edge.kind != edgeNone {
			t.Errorf("%s: a series already over was forced: %v %+v", seedRules[rule].Type, v, d.edge)
		}
	}
}

// emitted is one generated message with the alert edge the generator
// recorded for it.
type emitted struct {
	topic, payload string
	cls            class
	edge           alertEdge
	device         string
}

func generateEdges(t *testing.T, cfg Config, n int) []emitted {
	t.Helper()
	cfg.Broker, cfg.Count = "tcp://127.0.0.1:1883", int64(n)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	devs := newFleet(&cfg)
	now := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC).UnixNano()
	out := make([]emitted, 0, n)
	var buf []byte
	for i := range n {
		d := devs[i%len(devs)]
		topic, payload, cls := d.emit(buf, now)
		buf = payload[:0]
		out = append(out, emitted{string(topic), string(payload), cls, d.edge, d.id})
		now += int64(time.Millisecond)
	}
	return out
}

// TestEdgesMatchPayloads recomputes every alert event from the generated
// payloads alone (per topic: the seed threshold on the JSON field, the
// previous reading's state) and compares with what the generator
// recorded, across anomalies, forced alert readings and malformed
// payloads. It also checks the share of forced readings.
func TestEdgesMatchPayloads(t *testing.T) {
	tests := []struct {
		name                     string
		profile                  string
		anomaly, alert, malform  float64
		wantFiringOnlyFromForced bool
	}{
		{"mixed with everything", ProfileMixed, 0.2, 0.05, 0.05, false},
		{"factory forced only", ProfileFactory, 0, 0.02, 0, true},
		{"vehicles forced only", ProfileVehicles, 0, 0.1, 0.01, true},
		{"city anomalies only", ProfileCity, 0.3, 0, 0, false},
		{"nothing", ProfileMixed, 0, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const n = 40000
			msgs := generateEdges(t, Config{Devices: 37, Profile: tt.profile, Seed: 9, AnomalyRate: tt.anomaly,
				AlertRate: tt.alert, MalformedRate: tt.malform}, n)
			over := map[string]bool{}
			var readings, forced, firing, resolved int
			for i, m := range msgs {
				if m.cls == classMalformed {
					if m.edge.kind != edgeNone {
						t.Fatalf("message %d: malformed with edge %+v", i, m.edge)
					}
					continue
				}
				readings++
				parts := strings.Split(m.topic, "/")
				rule := ruleFor(parts[0], parts[2])
				if rule == noRule {
					if m.edge.kind != edgeNone {
						t.Fatalf("message %d %s: edge %+v", i, m.topic, m.edge)
					}
					continue
				}
				var p map[string]any
				if err := json.Unmarshal([]byte(m.payload), &p); err != nil {
					t.Fatal(err)
				}
				v, ts := p[seedRules[rule].field].(float64), int64(p["ts"].(float64))
				met := v > seedRules[rule].threshold
				want := edgeNone
				switch {
				case met && !over[m.topic]:
					want = edgeFiring
					firing++
				case !met && over[m.topic]:
					want = edgeResolved
					resolved++
				}
				over[m.topic] = met
				if m.edge.kind != want || (want != edgeNone && (m.edge.ts != ts || m.edge.value != v || m.edge.rule != rule)) {
					t.Fatalf("message %d %s %s: edge %+v, want kind %d", i, m.topic, m.payload, m.edge, want)
				}
				if m.edge.forced {
					forced++
				}
				if tt.wantFiringOnlyFromForced && want == edgeFiring && !m.edge.forced {
					t.Fatalf("message %d: firing without being forced: %s", i, m.payload)
				}
			}
			within(t, "forced", float64(forced)/float64(readings), tt.alert)
			if tt.anomaly > 0 && firing <= forced {
				t.Errorf("anomalies raised no alerts: firing %d, forced %d", firing, forced)
			}
			if firing-resolved < 0 || firing-resolved > len(over) {
				t.Errorf("firing %d, resolved %d over %d series", firing, resolved, len(over))
			}
		})
	}
}

// alertJSON is borda's alert message (internal/alerts DefaultPayload).
func alertJSON(typ, device string, ts int64, value float64, state string) string {
	return fmt.Sprintf(`{"timestamp":%q,"type":%q,"device_id":%q,"value":%v,"severity":"critical","requires_action":true,`+
		`"state":%q,"rule":"r","id":"x"}`, time.UnixMilli(ts).UTC().Format(time.RFC3339Nano), typ, device, value, state)
}

func TestParseAlert(t *testing.T) {
	const ts = 1741944413123
	tests := []struct {
		payload  string
		wantTS   int64
		resolved bool
		wantErr  string
	}{
		{alertJSON("HIGH_TEMPERATURE", "sim-00001", ts, 81.5, "firing"), ts, false, ""},
		{alertJSON("HIGH_PRESSURE", "sim-00001", ts, 99, "resolved"), ts, true, ""},
		{`{"timestamp":"2025-03-14T09:26:53.123Z","type":"HIGH_TEMPERATURE","device_id":"d","value":81,"severity":"critical","requires_action":true}`,
			ts, false, ""}, // the seed's JSON: no state
		{`{"timestamp":"2025-03-14T09:26:53.123456789Z","type":"T","device_id":"d"}`, ts, false, ""},
		{`{"timestamp":"2025-03-14T10:26:53.123+01:00","type":"T","device_id":"d"}`, ts, false, ""},
		{`{"type":"T","device_id":"d"}`, 0, false, "timestamp missing"},
		{`{"timestamp":"yesterday","type":"T","device_id":"d"}`, 0, false, "timestamp"},
		{`{"timestamp":"2025-03-14T09:26:53Z","type":"T","device_id":"d","state":"pending"}`, 0, false, `state "pending"`},
		{`{"value":1`, 0, false, "not an alert"},
		{`{"value":21.5,"ts":1}`, 0, false, "missing"},
	}
	for _, tt := range tests {
		_, gotTS, resolved, err := parseAlert([]byte(tt.payload))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseAlert(%s) error %v, want %q", tt.payload, err, tt.wantErr)
			}
			continue
		}
		if err != nil || gotTS != tt.wantTS || resolved != tt.resolved {
			t.Errorf("parseAlert(%s) = %d, %v, %v", tt.payload, gotTS, resolved, err)
		}
	}
}

// TestAlertMatcher: received alert JSON is matched to expected readings
// by (device_id, type, timestamp); the rest is unexpected, ignored or
// invalid; what never arrives is missing.
func TestAlertMatcher(t *testing.T) {
	const t0 = 1741944413000
	m := newAlertMatcher("sim")
	expect := func(id string, kind edgeKind, rule ruleID, ts int64, v float64, sent int64, forced bool) {
		d := &device{id: id, edge: alertEdge{kind: kind, rule: rule, ts: ts, value: v, forced: forced}}
		m.expect(d, sent)
	}
	expect("sim-00001", edgeFiring, ruleTemperature, t0+1, 81.5, 1_000_000, true)
	expect("sim-00001", edgeResolved, ruleTemperature, t0+2, 20, 2_000_000, false)
	expect("sim-00001", edgeFiring, rulePressure, t0+1, 101, 3_000_000, false) // same device and time, other rule
	expect("sim-00002", edgeFiring, ruleSpeed, t0+5, 130, 4_000_000, true)
	expect("sim-00003", edgeFiring, ruleSpeed, t0+6, 125, 5_000_000, false)
	expect("sim-00004", edgeFiring, ruleTemperature, t0+9, 90, 6_000_000, false)   // never arrives
	expect("sim-00004", edgeResolved, ruleTemperature, t0+8, 20, 6_500_000, false) // never arrives
	expect("sim-00005", edgeFiring, rulePressure, t0+7, 110, 7_000_000, false)     // never arrives

	received := []struct {
		payload string
		at      int64
	}{
		{alertJSON("HIGH_TEMPERATURE", "sim-00001", t0+1, 81.5, "firing"), 1_500_000},   // 0.5 ms
		{alertJSON("HIGH_PRESSURE", "sim-00001", t0+1, 101, "firing"), 4_000_000},       // 1 ms
		{alertJSON("HIGH_TEMPERATURE", "sim-00001", t0+2, 20, "resolved"), 2_250_000},   // resolved, 0.25 ms
		{alertJSON("OVERSPEED", "sim-00002", t0+5, 130, "firing"), 6_000_000},           // 2 ms
		{alertJSON("SPEEDING", "sim-00003", t0+6, 126, "firing"), 9_000_000},            // alias, 4 ms, wrong value
		{alertJSON("HIGH_TEMPERATURE", "sim-00001", t0+1, 81.5, "firing"), 9_500_000},   // duplicate: unexpected
		{alertJSON("HIGH_TEMPERATURE", "sim-00001", t0+3, 85, "firing"), 9_500_000},     // no such reading: unexpected
		{alertJSON("HIGH_TEMPERATURE", "sim-00001", t0+3, 20, "resolved"), 9_500_000},   // resolved unexpected
		{alertJSON("HIGH_PRESSURE", "sim-00005", t0+7, 110, "resolved"), 9_500_000},     // wrong state: unexpected resolved
		{alertJSON("HIGH_TEMPERATURE", "other-00001", t0+1, 81.5, "firing"), 9_500_000}, // other device prefix
		{alertJSON("HIGH_TEMPERATURE", "sim00001", t0+1, 81.5, "firing"), 9_500_000},    // not <prefix>-
		{alertJSON("DEVICE_OFFLINE", "sim-00001", t0+1, 0, "firing"), 9_500_000},        // not a seed rule
		{`sensor fault`, 9_500_000},
		{`{"timestamp":"never","type":"HIGH_PRESSURE","device_id":"sim-00005"}`, 9_500_000},
	}
	for _, r := range received {
		m.receive([]byte(r.payload), r.at)
	}
	if got, want := fmt.Sprint(m.progress()), "4 6"; got != want {
		t.Errorf("progress %s, want %s", got, want)
	}
	rep := m.report("alerts/#", 2)
	want := AlertReport{Filter: "alerts/#", QoS: 2, Forced: 2,
		AlertCounts: AlertCounts{Expected: 6, Received: 4, Missing: 2, Unexpected: 2},
		Resolved:    AlertCounts{Expected: 2, Received: 1, Missing: 1, Unexpected: 2},
		WrongValue:  1, Ignored: 3, Invalid: 2,
		MissingByType: map[string]int64{"HIGH_TEMPERATURE": 2, "HIGH_PRESSURE": 1},
		MissingSample: []string{
			"firing HIGH_PRESSURE sim-00005 at 2025-03-14T09:26:53.007Z",
			"resolved HIGH_TEMPERATURE sim-00004 at 2025-03-14T09:26:53.008Z",
			"firing HIGH_TEMPERATURE sim-00004 at 2025-03-14T09:26:53.009Z",
		},
	}
	lat, rlat := rep.Latency, rep.Resolved.Latency
	rep.Latency, rep.Resolved.Latency = Percentiles{}, Percentiles{}
	if a, b := mustJSON(t, rep), mustJSON(t, want); a != b {
		t.Errorf("report\n%s\nwant\n%s", a, b)
	}
	// Latencies: 0.5, 1, 2, 4 ms (percentiles within the histogram's 6%).
	if lat.Count != 4 || lat.Max != 4*time.Millisecond || !near(lat.P50, time.Millisecond) || !near(lat.P99, 4*time.Millisecond) {
		t.Errorf("firing latency %+v", lat)
	}
	if rlat.Count != 1 || rlat.Max != 250*time.Microsecond {
		t.Errorf("resolved latency %+v", rlat)
	}
	if rep.OK() {
		t.Error("a report with missing alerts is OK")
	}
	if ok := (&AlertReport{AlertCounts: AlertCounts{Expected: 3, Received: 3, Unexpected: 5}}).OK(); !ok {
		t.Error("unexpected alerts alone fail the report")
	}
}

func near(got, want time.Duration) bool { return math.Abs(float64(got-want)) <= 0.07*float64(want) }

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAlertReportJSON: the report round-trips and has the documented
// member names.
func TestAlertReportJSON(t *testing.T) {
	r := Report{Alerts: &AlertReport{Filter: "alerts/#", QoS: 2, AlertCounts: AlertCounts{Expected: 3, Received: 2, Missing: 1,
		Latency: Percentiles{Count: 2, P50: time.Millisecond, Max: 2 * time.Millisecond}},
		Resolved: AlertCounts{Expected: 1}, MissingByType: map[string]int64{"HIGH_PRESSURE": 1}}}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"alerts":{"filter":"alerts/#","qos":2,"forced":0,"expected":3,"received":2,"missing":1,"unexpected":0,` +
		`"latency":{"count":2,"p50_ms":1,"p90_ms":0,"p99_ms":0,"max_ms":2},"resolved":{"expected":1,`, `"missing_by_type":{"HIGH_PRESSURE":1}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s:\n%s", want, b)
		}
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil || mustJSON(t, back.Alerts) != mustJSON(t, r.Alerts) {
		t.Errorf("round trip: %v\n%s", err, mustJSON(t, back.Alerts))
	}
	if b, _ := json.Marshal(Report{}); strings.Contains(string(b), "alerts") {
		t.Errorf("alerts without ExpectAlerts: %s", b)
	}
}

func TestValidateAlertOptions(t *testing.T) {
	tests := []struct {
		change  func(c *Config)
		wantErr string
	}{
		{func(c *Config) { c.AlertRate = 0.5; c.ExpectAlerts = true }, ""},
		{func(c *Config) { c.AlertFilter = "alerts/critical" }, ""},
		{func(c *Config) { c.AlertFilter = "+/+/#" }, ""},
		{func(c *Config) { c.AlertRate = -0.1 }, "alert rate: -0.1 is not within 0..1"},
		{func(c *Config) { c.AlertRate = 0.6 }, "alert rate: 0.6 is above 0.5"},
		{func(c *Config) { c.AlertGrace = -time.Second }, "alert grace: -1s is not within"},
		{func(c *Config) { c.AlertGrace = time.Hour }, "alert grace: 1h0m0s is not within"},
		{func(c *Config) { c.AlertFilter = "alerts/#/x" }, "'#' must be the whole last level"},
		{func(c *Config) { c.AlertFilter = "alerts/crit+" }, "'+' must be a whole level"},
	}
	for i, tt := range tests {
		c := Config{Broker: "tcp://127.0.0.1:1883", Count: 1}
		tt.change(&c)
		err := c.Validate()
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("case %d: error %v, want %q", i, err, tt.wantErr)
		}
	}
	c := Config{Broker: "tcp://127.0.0.1:1883", Count: 1}
	if err := c.Validate(); err != nil || c.AlertFilter != "alerts/#" || c.AlertGrace != 2*time.Second {
		t.Errorf("defaults: %q %v %v", c.AlertFilter, c.AlertGrace, err)
	}
}

// TestAlertSubscriberQoS2 plays the broker's side of QoS 2, 1 and 0
// deliveries: a QoS 2 message is handed on once even when redelivered
// before its PUBREL, and every acknowledgement is sent.
func TestAlertSubscriberQoS2(t *testing.T) {
	const t0 = 1741944413000
	firing := alertJSON("HIGH_TEMPERATURE", "sim-00001", t0, 85, "firing")
	resolved := alertJSON("HIGH_TEMPERATURE", "sim-00001", t0+1, 20, "resolved")
	acks := make(chan string, 1)
	addr := fakeBroker(t, 0, func(c net.Conn, br *bufio.Reader) {
		var buf []byte
		if p, err := readPacket(br, &buf); err != nil || p.Type != pktSubscribe {
			acks <- fmt.Sprintf("want SUBSCRIBE: %+v %v", p, err)
			return
		}
		pub := func(qos byte, dup bool, id uint16, payload string) []byte {
			b := appendPublishHeader(nil, []byte("alerts/critical"), qos, id, len(payload))
			if dup {
				b[0] |= 0x08
			}
			return append(b, payload...)
		}
		var out []byte
		out = append(out, pktSuback<<4, 3, 0, 1, 2)
		out = append(out, pub(2, false, 7, firing)...)
		out = append(out, pub(2, true, 7, firing)...) // redelivered before PUBREL: the same message
		out = append(out, pktPubrel<<4|2, 2, 0, 7)
		out = append(out, pub(1, false, 8, resolved)...)
		out = append(out, pub(0, false, 0, "not an alert")...)
		if _, err := c.Write(out); err != nil {
			acks <- err.Error()
			return
		}
		var got []string
		for range 4 {
			p, err := readPacket(br, &buf)
			if err != nil {
				acks <- fmt.Sprintf("after %v: %v", got, err)
				return
			}
			got = append(got, fmt.Sprintf("%d:%d", p.Type, p.ID))
		}
		acks <- strings.Join(got, " ")
		_, _ = readPacket(br, &buf) // DISCONNECT or EOF
	})
	m := newAlertMatcher("sim")
	m.expect(&device{id: "sim-00001", edge: alertEdge{kind: edgeFiring, rule: ruleTemperature, ts: t0, value: 85}}, 1)
	m.expect(&device{id: "sim-00001", edge: alertEdge{kind: edgeResolved, rule: ruleTemperature, ts: t0 + 1, value: 20}}, 1)
	cfg := Config{Broker: addr, ClientIDPrefix: "q2"}
	cfg.applyDefaults()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := subscribeAlerts(ctx, &cfg, m)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := fmt.Sprintf("%d:7 %d:7 %d:7 %d:8", pktPubrec, pktPubrec, pktPubcomp, pktPuback)
	select {
	case got := <-acks:
		if got != want {
			t.Fatalf("acknowledgements %q, want %q", got, want)
		}
	case <-ctx.Done():
		t.Fatal("no acknowledgements")
	}
	s.Close()
	if err := s.Err(); err != nil {
		t.Error(err)
	}
	rep := m.report(cfg.AlertFilter, s.granted)
	if rep.QoS != 2 || rep.Received != 1 || rep.Unexpected != 0 || rep.Resolved.Received != 1 || rep.Invalid != 1 || !rep.OK() {
		t.Errorf("report %s", mustJSON(t, rep))
	}
}

func TestAlertSubscriberRefused(t *testing.T) {
	addr := fakeBroker(t, 0, func(c net.Conn, br *bufio.Reader) {
		var buf []byte
		if p, err := readPacket(br, &buf); err == nil && p.Type == pktSubscribe {
			_, _ = c.Write([]byte{pktSuback << 4, 3, 0, 1, 0x80})
		}
		_, _ = readPacket(br, &buf)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := Run(ctx, Config{Broker: addr, Count: 10, ExpectAlerts: true}, nil)
	if err == nil || !strings.Contains(err.Error(), `alert subscriber: subscribe "alerts/#": refused by the broker (SUBACK code 0x80)`) {
		t.Fatalf("error %v", err)
	}
}

// TestExpectAlertsAgainstMosquitto runs the simulator with ExpectAlerts
// against a real Mosquitto, where simtest.FakeRules plays borda's seed
// rules: every expected alert arrives (at QoS 2) and is matched, nothing
// is unexpected, and the fake rules published exactly what the simulator
// expected. With alerts left out, they are reported missing.
func TestExpectAlertsAgainstMosquitto(t *testing.T) {
	m := simtest.StartMosquitto(t, simtest.Options{})
	tests := []struct {
		name string
		cfg  Config
		opt  simtest.FakeRulesOptions
	}{
		{"qos0 mixed with faults", Config{Devices: 30, Conns: 3, Count: 5000, Rate: 5000, Profile: ProfileMixed,
			AnomalyRate: 0.05, AlertRate: 0.05, MalformedRate: 0.02, SilentRate: 0.1}, simtest.FakeRulesOptions{}},
		{"qos1 unpaced factory", Config{Devices: 20, Conns: 2, Count: 4000, QoS: 1, AlertRate: 0.02},
			simtest.FakeRulesOptions{}},
		{"vehicles SPEEDING", Config{Devices: 10, Conns: 1, Count: 2000, Rate: 4000, Profile: ProfileVehicles, AlertRate: 0.1,
			AlertFilter: "alerts/critical"}, simtest.FakeRulesOptions{SpeedType: "SPEEDING"}},
		{"dropped alerts are missing", Config{Devices: 20, Conns: 2, Count: 3000, Rate: 6000, AlertRate: 0.05,
			AlertGrace: time.Second}, simtest.FakeRulesOptions{DropEvery: 4}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			fake := simtest.StartFakeRules(t, m.Addr, tt.opt)
			cfg := tt.cfg
			cfg.Broker, cfg.ExpectAlerts = "tcp://"+m.Addr, true
			cfg.ClientIDPrefix, cfg.DevicePrefix = fmt.Sprintf("alerts%d", i), fmt.Sprintf("al%d", i)
			var progress strings.Builder
			rep, err := Run(ctx, cfg, &progress)
			if err != nil {
				t.Fatal(err)
			}
			checkReport(t, cfg, rep)
			a := rep.Alerts
			if a == nil {
				t.Fatal("no alert report")
			}
			fired, resolved, dropped := fake.Published()
			t.Logf("alerts %s", mustJSON(t, a))
			if a.QoS != 2 || a.Forced == 0 || a.Expected < a.Forced || a.Resolved.Expected == 0 || a.Unexpected != 0 ||
				a.Resolved.Unexpected != 0 || a.Ignored != 0 || a.Invalid != 0 || a.WrongValue != 0 || a.Resolved.Missing != 0 {
				t.Errorf("alert report %s", mustJSON(t, a))
			}
			if fired+dropped != int(a.Expected) || resolved != int(a.Resolved.Expected) {
				t.Errorf("fake rules published %d firing (+%d dropped) and %d resolved; the simulator expected %d and %d",
					fired, dropped, resolved, a.Expected, a.Resolved.Expected)
			}
			if a.Received != int64(fired) || a.Missing != int64(dropped) || a.Latency.Count != a.Received ||
				a.Resolved.Received != a.Resolved.Expected || a.Resolved.Latency.Count != a.Resolved.Received {
				t.Errorf("received %d, missing %d (dropped %d): %s", a.Received, a.Missing, dropped, mustJSON(t, a))
			}
			if tt.opt.DropEvery == 0 {
				if !a.OK() || a.MissingByType != nil || a.Latency.Max <= 0 {
					t.Errorf("alert report %s", mustJSON(t, a))
				}
				return
			}
			if a.OK() || dropped == 0 || len(a.MissingSample) != min(dropped, missingSample) {
				t.Errorf("dropped %d: %s", dropped, mustJSON(t, a))
			}
			var byType int64
			for _, n := range a.MissingByType {
				byType += n
			}
			if byType != a.Missing {
				t.Errorf("missing by type %v, missing %d", a.MissingByType, a.Missing)
			}
		})
	}
}

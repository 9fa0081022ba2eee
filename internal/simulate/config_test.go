package simulate

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestValidate(t *testing.T) {
	ok := Config{Broker: "tcp://127.0.0.1:1883", Duration: time.Second}
	tests := []struct {
		name   string
		change func(*Config)
		want   string // "" = valid
	}{
		{"defaults", func(c *Config) {}, ""},
		{"mqtts without port", func(c *Config) { c.Broker = "mqtts://broker.local" }, ""},
		{"count only", func(c *Config) { c.Duration, c.Count = 0, 10 }, ""},
		{"no limit", func(c *Config) { c.Duration = 0 }, "one of them must be > 0"},
		{"negative duration", func(c *Config) { c.Duration = -1 }, "must not be negative"},
		{"bad scheme", func(c *Config) { c.Broker = "http://x:1" }, "scheme must be"},
		{"no host", func(c *Config) { c.Broker = "tcp://:1883" }, "no host"},
		{"path", func(c *Config) { c.Broker = "tcp://x:1/mqtt" }, "unexpected path"},
		{"too many devices", func(c *Config) { c.Devices = 2_000_000 }, "devices: 2000000"},
		{"negative devices", func(c *Config) { c.Devices = -1 }, "devices: -1"},
		{"more conns than devices", func(c *Config) { c.Devices, c.Conns = 2, 3 }, "conns: 3"},
		{"negative rate", func(c *Config) { c.Rate = -1 }, "rate"},
		{"NaN rate", func(c *Config) { c.Rate = math.NaN() }, "rate"},
		{"qos 2", func(c *Config) { c.QoS = 2 }, "qos: 2"},
		{"profile", func(c *Config) { c.Profile = "farm" }, `profile: "farm"`},
		{"anomaly rate", func(c *Config) { c.AnomalyRate = 1.5 }, "anomaly rate"},
		{"malformed rate", func(c *Config) { c.MalformedRate = -0.1 }, "malformed rate"},
		{"silent rate", func(c *Config) { c.SilentRate = math.NaN() }, "silent rate"},
		{"cert without key", func(c *Config) { c.ClientCert = "c.pem" }, "certificate and key"},
		{"inflight", func(c *Config) { c.MaxInflight = 70000 }, "max inflight"},
		{"device prefix", func(c *Config) { c.DevicePrefix = "a/b" }, "device prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.change(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c := Config{Broker: "tcp://x", Count: 1}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Devices != 100 || c.Conns != 8 || c.Profile != ProfileFactory || c.ClientIDPrefix != "borda-sim" ||
		c.DevicePrefix != "sim" || c.MaxInflight != 100 {
		t.Fatalf("defaults %+v", c)
	}
	c = Config{Broker: "tcp://x", Count: 1, Devices: 3}
	if err := c.Validate(); err != nil || c.Conns != 3 {
		t.Fatalf("conns %d, %v", c.Conns, err)
	}
}

func TestHistogram(t *testing.T) {
	var h histogram
	if p := h.percentiles(); p != (Percentiles{}) {
		t.Fatalf("empty: %+v", p)
	}
	for i := int64(1); i <= 1000; i++ {
		h.record(i * int64(time.Microsecond))
	}
	h.record(-5) // clock step: counted as 0
	p := h.percentiles()
	check := func(name string, got, want time.Duration) {
		if got < want || float64(got) > float64(want)*1.07 {
			t.Errorf("%s = %v, want %v (+7%%)", name, got, want)
		}
	}
	check("p50", p.P50, 500*time.Microsecond)
	check("p90", p.P90, 900*time.Microsecond)
	check("p99", p.P99, 990*time.Microsecond)
	if p.Max != time.Millisecond || p.Count != 1001 {
		t.Errorf("max %v count %d", p.Max, p.Count)
	}
	var m histogram
	m.merge(&h)
	m.merge(&h)
	if q := m.percentiles(); q.Count != 2002 || q.P50 != p.P50 || q.Max != p.Max {
		t.Errorf("merged %+v, want %+v twice", q, p)
	}
	for v := int64(0); v < 1<<40; v = v*3 + 1 { // bucket bounds hold every value
		if i := bucketOf(v); bucketUpper(i) < v || (i > 0 && bucketUpper(i-1) >= v) {
			t.Fatalf("value %d in bucket %d with upper bound %d", v, i, bucketUpper(i))
		}
	}
}

func TestReportJSONRoundTrip(t *testing.T) {
	rep := Report{Profile: "city", Sent: 10, Readings: 9, Malformed: 1, Elapsed: 1500 * time.Millisecond, Rate: 6.67,
		AckLatency: Percentiles{Count: 10, P50: 250 * time.Microsecond, P90: time.Millisecond, P99: 2 * time.Millisecond, Max: 3 * time.Millisecond},
		DataStart:  time.UnixMilli(1741944413000).UTC(), DataEnd: time.UnixMilli(1741944414000).UTC(),
		Devices: map[string]DeviceCount{"sim-00000": {Kind: "camera", Sent: 10, Readings: 9, Series: map[string]int64{"cameras_detection_confidence": 9}}}}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"elapsed_s":1.5`, `"p50_ms":0.25`, `"max_ms":3`, `"data_start":"2025-03-14T09:26:53Z"`, `"cameras_detection_confidence":9`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(back)
	if string(b) != string(b2) || back.Elapsed != rep.Elapsed || back.AckLatency != rep.AckLatency {
		t.Fatalf("round trip:\n%s\n%s", b, b2)
	}
}

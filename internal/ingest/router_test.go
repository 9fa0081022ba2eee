package ingest

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/telemetry"
)

// conventionCase is one entry of testdata/convention.json.
type conventionCase struct {
	Name        string             `json:"name"`
	Topic       string             `json:"topic"`
	Payload     string             `json:"payload"`
	Measurement string             `json:"measurement"`
	Tags        map[string]string  `json:"tags"`
	Fields      map[string]float64 `json:"fields"`
	Time        time.Time          `json:"time"`
	Reason      string             `json:"reason"`
}

func loadConventionCases(t testing.TB) []conventionCase {
	t.Helper()
	data, err := os.ReadFile("testdata/convention.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []conventionCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

func TestRouteConvention(t *testing.T) {
	r := mustRouter(t, DefaultConfig())
	for _, tc := range loadConventionCases(t) {
		t.Run(tc.Name, func(t *testing.T) {
			pts, err := r.Route(tc.Topic, []byte(tc.Payload), recv, nil)
			if got := reasonOf(err); got != tc.Reason {
				t.Fatalf("reason = %q (%v), want %q", got, err, tc.Reason)
			}
			if tc.Reason != "" {
				if len(pts) != 0 {
					t.Fatalf("rejected message produced points %v", pts)
				}
				if rs := Rejections(err); rs[0].Topic != tc.Topic {
					t.Errorf("rejection topic = %q", rs[0].Topic)
				}
				return
			}
			if len(pts) != 1 {
				t.Fatalf("got %d points, want 1", len(pts))
			}
			checkPoint(t, pts[0], want{tc.Measurement, tc.Tags, tc.Fields, tc.Time})
		})
	}
}

func TestRouteIntAndFloatAreTheSameValue(t *testing.T) {
	r := mustRouter(t, Config{MaxPayloadBytes: 1024, Convention: true, Mappings: []Mapping{
		{Topic: "lp/#", Format: FormatInflux},
		{Topic: "num/+", Levels: []string{"", "id"}, Measurement: "n", Format: FormatNumber},
	}})
	msgs := []struct{ topic, payload string }{
		{"sensors/s1/temperature", `{"value":21}`},
		{"sensors/s1/temperature", `{"value":21.0}`},
		{"sensors/s1/temperature", `{"value":2.1e1}`},
		{"sensors/s1/temperature", `{"value":210E-1}`},
		{"sensors/s1/temperature", `21`},
		{"sensors/s1/temperature", `21.000`},
		{"num/a", "21"},
		{"lp/x", "m value=21i"},
		{"lp/x", "m value=21u"},
		{"lp/x", "m value=21"},
		{"lp/x", "m value=21.0"},
	}
	for _, m := range msgs {
		pts, err := r.Route(m.topic, []byte(m.payload), recv, nil)
		if err != nil || len(pts) != 1 {
			t.Fatalf("%s %s: %v %v", m.topic, m.payload, pts, err)
		}
		if v, _ := pts[0].Field("value"); v != 21 {
			t.Errorf("%s %q: value = %v, want float64 21", m.topic, m.payload, v)
		}
	}
}

func TestRouteCustomMappings(t *testing.T) {
	cfg := Config{MaxPayloadBytes: 4096, Convention: true, Mappings: []Mapping{{
		Topic:       "factory/+/+/telemetry",
		Levels:      []string{"", "site", "machine"},
		Measurement: "{0}_machine",
		TopicTags:   []string{"site", "machine"},
		Fields:      map[string]string{"gps.lat": "lat", "gps.lon": "", "temp": "temperature"},
		Tags:        []string{"meta.zone", "machine"},
	}, {
		Topic: "telegraf/+/#", Levels: []string{"", "host"}, TopicTags: []string{"host"},
		Format: FormatInflux, Precision: "s", TagDefaults: map[string]string{"site": "hq"},
	}, {
		Topic: "raw/+", Levels: []string{"", "sensor"}, Measurement: "raw_{sensor}", Format: FormatAuto,
	}}}
	r := mustRouter(t, cfg)
	ts := time.Unix(1732480000, 0).UTC()
	tests := []struct {
		topic, payload string
		want           []want
	}{
		{"factory/lis/m7/telemetry", `{"temp":71,"gps":{"lat":38.7,"lon":-9.1,"alt":12},"meta":{"zone":"B"},"machine":"spoof"}`,
			[]want{{"factory_machine", map[string]string{"site": "lis", "machine": "m7", "meta_zone": "B"},
				map[string]float64{"temperature": 71, "lat": 38.7, "gps_lon": -9.1}, time.Time{}}}},
		{"telegraf/web1/cpu", "cpu,host=spoof,cpu=cpu0 usage_idle=98.5,usage_user=1.2 1732480000\ncpu,cpu=cpu1 usage_idle=97i",
			[]want{
				{"cpu", map[string]string{"host": "web1", "cpu": "cpu0", "site": "hq"}, map[string]float64{"usage_idle": 98.5, "usage_user": 1.2}, ts},
				{"cpu", map[string]string{"host": "web1", "cpu": "cpu1", "site": "hq"}, map[string]float64{"usage_idle": 97}, time.Time{}},
			}},
		{"telegraf/web1", "mem used=1i", []want{{"mem", map[string]string{"host": "web1", "site": "hq"}, map[string]float64{"used": 1}, time.Time{}}}},
		{"raw/p1", `{"v":1}`, []want{{"raw_p1", nil, map[string]float64{"v": 1}, time.Time{}}}},
		{"raw/p1", "-4.5", []want{{"raw_p1", nil, map[string]float64{"value": -4.5}, time.Time{}}}},
		{"raw/p1", "weather,city=porto temp=17.5", []want{{"weather", map[string]string{"city": "porto"}, map[string]float64{"temp": 17.5}, time.Time{}}}},
		{"sensors/s9/co2", "412", []want{{"sensors_co2", map[string]string{"device_type": "sensors", "device_id": "s9", "location": "unknown"}, map[string]float64{"value": 412, "quality": 1}, time.Time{}}}},
	}
	for _, tc := range tests {
		pts, err := r.Route(tc.topic, []byte(tc.payload), recv, nil)
		if err != nil || len(pts) != len(tc.want) {
			t.Fatalf("%s %q: %d points, err %v", tc.topic, tc.payload, len(pts), err)
		}
		for i := range pts {
			checkPoint(t, pts[i], tc.want[i])
		}
	}
	for topic, payload := range map[string]string{"raw/p1": "hello", "raw/p2": `"text"`} {
		if _, err := r.Route(topic, []byte(payload), recv, nil); reasonOf(err) != ReasonNotNumeric {
			t.Errorf("auto %q: %v, want not_numeric", payload, err)
		}
	}
}

func TestRoutePartialBatch(t *testing.T) {
	r := mustRouter(t, Config{MaxPayloadBytes: 4096, Mappings: []Mapping{{Topic: "lp", Format: FormatInflux}}})
	payload := "m a=1\nm a=\nm b=2\nm c=3 notatime\nm d=\"s\"\nm e=99999999999999999999i\n"
	dst := make([]telemetry.Point, 1, 8) // an earlier point stays untouched
	dst[0].Measurement = "earlier"
	pts, err := r.Route("lp", []byte(payload), recv, dst)
	if len(pts) != 3 || pts[0].Measurement != "earlier" {
		t.Fatalf("points = %v", pts)
	}
	got := strings.Join(reasons(err), ",")
	if got != "bad_line_protocol,bad_timestamp,no_numeric_field,out_of_range" {
		t.Errorf("reasons = %s (%v)", got, err)
	}
	for _, rej := range Rejections(err) {
		if rej.Topic != "lp" || !strings.Contains(rej.Error(), "line ") {
			t.Errorf("rejection %v lacks topic or line", rej)
		}
	}
}

func TestRouteLimitsAndTopics(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxPayloadBytes = 16
	r := mustRouter(t, cfg)
	tests := []struct{ topic, payload, reason string }{
		{"sensors/s1/t", `{"value":1,"quality":1}`, ReasonTooLarge},
		{"sensors/s1/t", " \t\r\n", ReasonEmpty},
		{"", "1", ReasonBadTopic},
		{"a/\xff/b", "1", ReasonBadTopic},
		{"a/#", "1", ReasonBadTopic},
		{"a/b\x00/c", "1", ReasonBadTopic},
		{"/s1/temperature", "1", ReasonBadTopic},
		{"sensors/s1/", "1", ReasonBadTopic},
		{"x", "1", ReasonUnknownTopic},
	}
	for _, tc := range tests {
		pts, err := r.Route(tc.topic, []byte(tc.payload), recv, nil)
		if reasonOf(err) != tc.reason || len(pts) != 0 {
			t.Errorf("%q %q: %v %v, want %s", tc.topic, tc.payload, pts, err, tc.reason)
		}
	}
}

func TestRouteFirstMatchWins(t *testing.T) {
	r := mustRouter(t, Config{MaxPayloadBytes: 100, Convention: true, Mappings: []Mapping{
		{Topic: "sensors/+/temperature", Measurement: "first"},
		{Topic: "sensors/#", Measurement: "second"},
	}})
	for topic, m := range map[string]string{"sensors/a/temperature": "first", "sensors/a/humidity": "second", "sensors": "second", "devices/a/b": "devices_b"} {
		pts, err := r.Route(topic, []byte("1"), recv, nil)
		if err != nil || pts[0].Measurement != m {
			t.Errorf("%s: %v %v, want measurement %s", topic, pts, err, m)
		}
	}
}

func TestRejectionsAndError(t *testing.T) {
	a := &Rejection{Reason: ReasonBadJSON, Topic: "t", Err: errors.New("boom")}
	b := &Rejection{Reason: ReasonEmpty}
	if got := a.Error(); got != `ingest: bad_json (topic "t"): boom` {
		t.Errorf("Error() = %q", got)
	}
	if got := b.Error(); got != "ingest: empty_payload" {
		t.Errorf("Error() = %q", got)
	}
	wrapped := errors.Join(a, errors.Join(b), errors.New("other"))
	if rs := Rejections(wrapped); len(rs) != 2 || rs[0] != a || rs[1] != b {
		t.Errorf("Rejections = %v", rs)
	}
	var r *Rejection
	if !errors.As(wrapped, &r) || r != a {
		t.Error("errors.As does not find the first rejection")
	}
	if Rejections(nil) != nil {
		t.Error("Rejections(nil) not empty")
	}
}

func FuzzRoute(f *testing.F) {
	r, err := NewRouter(Config{MaxPayloadBytes: 4096, Convention: true, Mappings: []Mapping{
		{Topic: "lp/+/#", Levels: []string{"", "host"}, TopicTags: []string{"host"}, Format: FormatInflux, Precision: "ms"},
		{Topic: "auto/+", Levels: []string{"", "id"}, Measurement: "auto_{id}", Format: FormatAuto,
			Fields: map[string]string{"gps.lat": "lat"}, Tags: []string{"meta.zone"}},
		{Topic: "n/+", Measurement: "n_{1}", Format: FormatNumber},
	}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("sensors/s1/temperature", []byte(`{"value":23.5,"location":"hall","quality":0.9}`))
	f.Add("lp/h1/x", []byte("cpu,cpu=0 idle=1 1732480000000\nbad"))
	f.Add("auto/a", []byte(`{"gps":{"lat":1},"meta":{"zone":"z"}}`))
	f.Fuzz(func(t *testing.T, topic string, payload []byte) {
		pts, err := r.Route(topic, payload, recv, nil)
		for _, p := range pts {
			if e := pointInvariants(p); e != nil {
				t.Fatalf("%q %q: %v", topic, payload, e)
			}
		}
		if err == nil && len(pts) == 0 {
			t.Fatalf("%q %q: no points and no error", topic, payload)
		}
		rs := Rejections(err)
		if err != nil && len(rs) == 0 {
			t.Fatalf("error %v holds no *Rejection", err)
		}
		for _, rej := range rs {
			if !knownReason(rej.Reason) || rej.Topic != topic {
				t.Fatalf("bad rejection %#v", rej)
			}
		}
	})
}

func BenchmarkRouteDefaultJSON(b *testing.B) {
	r := mustRouter(b, DefaultConfig())
	payload := []byte(`{"value":23.5,"location":"hall","quality":0.9}`)
	dst := make([]telemetry.Point, 0, 1)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		var err error
		dst, err = r.Route("sensors/s1/temperature", payload, recv, dst[:0])
		if err != nil || len(dst) != 1 {
			b.Fatal(err)
		}
	}
}

func TestMatches(t *testing.T) {
	r := mustRouter(t, DefaultConfig())
	for topic, want := range map[string]bool{
		"sensors/s1/temperature": true, "alerts/critical": false, "$SYS/a/b": false,
		"a/+/b": false, "": false, "a/b/c/d": false,
	} {
		if got := r.Matches(topic); got != want {
			t.Errorf("Matches(%q) = %v, want %v", topic, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { r.Matches("sensors/s1/temperature") }); n != 0 {
		t.Errorf("Matches allocates %v times", n)
	}
}

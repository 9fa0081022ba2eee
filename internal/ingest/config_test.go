package ingest

import (
	"math"
	"strings"
	"testing"
)

func TestDefaultConfigIsValid(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	cfg := Config{MaxPayloadBytes: 1, Mappings: []Mapping{ConventionMapping()}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidate(t *testing.T) {
	ok := Mapping{Topic: "ok/+", Measurement: "ok"}
	tests := []struct {
		m    Mapping
		want string // the single expected error
	}{
		{Mapping{Topic: "a/#/b", Measurement: "m"}, `mappings[1].topic: "a/#/b" is not a valid MQTT topic filter`},
		{Mapping{Topic: "", Measurement: "m"}, `mappings[1].topic: "" is not a valid MQTT topic filter`},
		{Mapping{Topic: "a+/b", Measurement: "m"}, `mappings[1].topic: "a+/b" is not a valid MQTT topic filter`},
		{Mapping{Topic: "a/b#", Measurement: "m"}, `mappings[1].topic: "a/b#" is not a valid MQTT topic filter`},
		{Mapping{Topic: "a/\x00", Measurement: "m"}, `mappings[1].topic: "a/\x00" is not a valid MQTT topic filter`},
		{Mapping{Topic: "ok/+", Measurement: "m"}, `mappings[1].topic: "ok/+" repeats mappings[0].topic and would never match`},
		{Mapping{Topic: "a"}, `mappings[1].measurement: required for format json`},
		{Mapping{Topic: "a", Measurement: "m", Format: FormatInflux}, `mappings[1].measurement: must be empty for format influx (each line names its measurement)`},
		{Mapping{Topic: "a/+", Measurement: "{foo}"}, `mappings[1].measurement: "{foo}": {foo} names no topic level`},
		{Mapping{Topic: "a/+", Measurement: "{2}"}, `mappings[1].measurement: "{2}": {2} is level 2, not present in every matching topic`},
		{Mapping{Topic: "a/#", Measurement: "{1}"}, `mappings[1].measurement: "{1}": {1} is level 1, not present in every matching topic`},
		{Mapping{Topic: "a/+", Measurement: "x_{1"}, `mappings[1].measurement: "x_{1": unmatched '{'`},
		{Mapping{Topic: "a/+", Measurement: "x}"}, `mappings[1].measurement: "x}": unmatched '}'`},
		{Mapping{Topic: "a", Measurement: "m", Format: "xml"}, `mappings[1].format: "xml" is not one of json, number, influx, auto`},
		{Mapping{Topic: "a", Format: FormatInflux, Precision: "m"}, `mappings[1].precision: "m" is not one of ns, us, ms, s`},
		{Mapping{Topic: "a", Measurement: "m", Precision: "s"}, `mappings[1].precision: only applies to format influx or auto`},
		{Mapping{Topic: "a/+", Levels: []string{"", "1x"}, Measurement: "m"}, `mappings[1].levels[1]: "1x" must be letters, digits and '_', not starting with a digit`},
		{Mapping{Topic: "a/+", Levels: []string{"x", "x"}, Measurement: "m"}, `mappings[1].levels[1]: "x" already names level 0`},
		{Mapping{Topic: "a/#", Levels: []string{"x", "y"}, Measurement: "m"}, `mappings[1].levels[1]: "y" names level 1, but the topic filter has only 1 fixed levels`},
		{Mapping{Topic: "a/+", Levels: []string{"", "id"}, TopicTags: []string{"di"}, Measurement: "m"}, `mappings[1].topic_tags[0]: "di" is not a name in levels`},
		{Mapping{Topic: "a", Measurement: "m", Fields: map[string]string{"gps..lat": ""}}, `mappings[1].fields["gps..lat"]: "gps..lat" has an empty path segment`},
		{Mapping{Topic: "a", Measurement: "m", Fields: map[string]string{".a": "x"}}, `mappings[1].fields[".a"]: ".a" has an empty path segment`},
		{Mapping{Topic: "a", Measurement: "m", Fields: map[string]string{"ts": "x"}}, `mappings[1].fields["ts"]: "ts" is the timestamp member and never a field or tag`},
		{Mapping{Topic: "a", Measurement: "m", Format: FormatNumber, Tags: []string{"x"}}, `mappings[1].fields: fields and tags declare JSON paths; format number is not JSON`},
		{Mapping{Topic: "a", Measurement: "m", Tags: []string{"a.b", "a_b"}}, `mappings[1].tags[1]: "a_b" declares tag "a_b" twice`},
		{Mapping{Topic: "a", Measurement: "m", Tags: []string{"x."}}, `mappings[1].tags[0]: "x." has an empty path segment`},
		{Mapping{Topic: "a", Measurement: "m", TagDefaults: map[string]string{"site": ""}}, `mappings[1].tag_defaults["site"]: key and value must not be empty`},
		{Mapping{Topic: "a", Measurement: "m", FieldDefaults: map[string]float64{"q": math.NaN()}}, `mappings[1].field_defaults["q"]: key must not be empty and value must be finite`},
	}
	for _, tc := range tests {
		cfg := Config{MaxPayloadBytes: 100, Mappings: []Mapping{ok, tc.m}}
		err := cfg.Validate()
		if err == nil || err.Error() != tc.want {
			t.Errorf("%+v:\n got %v\nwant %s", tc.m, err, tc.want)
		}
		if _, rerr := NewRouter(cfg); rerr == nil {
			t.Errorf("%+v: NewRouter accepted an invalid config", tc.m)
		}
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	cfg := Config{Mappings: []Mapping{{Topic: "a/#/b"}, {Topic: "x", Format: "yaml", Precision: "h"}}}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{"max_payload_bytes:", "mappings[0].topic:", "mappings[0].measurement:", "mappings[1].format:", "mappings[1].precision:"}
	if len(lines) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("error %d = %q, want prefix %q", i, lines[i], w)
		}
	}
}

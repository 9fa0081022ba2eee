package ingest

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/borda-edge/borda/internal/telemetry"
)

// testSpec declares nested fields, a rename and two tag paths.
func testSpec() *jsonSpec {
	return newJSONSpec(
		map[string]string{"gps.lat": "lat", "gps.lon": "", "a.b.c": "deep", "temp": "temperature"},
		[]string{"location", "meta.zone"}, []string{"value"})
}

func decodeTestJSON(spec *jsonSpec, payload string) (telemetry.Point, *Rejection) {
	p := telemetry.Point{Measurement: "m"}
	ts, rej := decodeJSONObject([]byte(payload), spec, &p, recv)
	p.Time = ts
	return p, rej
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		payload string
		fields  map[string]float64
		tags    map[string]string
	}{
		{`{"value":23.5}`, map[string]float64{"value": 23.5}, nil},
		{" {\"a\":1,\"b\":-2.5e3,\"c\":0,\"d\":-0,\"e\":1E2,\"f\":1e-2} \n", map[string]float64{"a": 1, "b": -2500, "c": 0, "d": 0, "e": 100, "f": 0.01}, nil},
		{`{"t":true,"f":false,"n":null}`, map[string]float64{"t": 1, "f": 0}, nil},
		{`{"gps":{"lat":1.5,"lon":2.5,"alt":3},"x":1}`, map[string]float64{"lat": 1.5, "gps_lon": 2.5, "x": 1}, nil},
		{`{"a":{"b":{"c":7,"d":8},"z":1}}`, map[string]float64{"deep": 7}, nil},
		{`{"v":1,"o":{"p":2,"q":[1,{"r":3}],"s":"x"}}`, map[string]float64{"v": 1}, nil},
		{`{"v":1,"arr":[1,2,3],"e":[],"eo":{}}`, map[string]float64{"v": 1}, nil},
		{`{"temp":20}`, map[string]float64{"temperature": 20}, nil},
		{`{"v":1,"location":"hall","meta":{"zone":"B","x":"y"},"other":"x"}`, map[string]float64{"v": 1}, map[string]string{"location": "hall", "meta_zone": "B"}},
		{`{"val\u0075e":1,"loc\u0061tion":"h\u00e9\n\"\\\/"}`, map[string]float64{"value": 1}, map[string]string{"location": "hé\n\"\\/"}},
		{`{"v":1,"s":"日本語 \ud83d\ude00 \ud800"}`, map[string]float64{"v": 1}, nil},
		{`{"location":5}`, map[string]float64{"location": 5}, nil},
		{`{"location":"a","location":"b","v":1}`, map[string]float64{"v": 1}, map[string]string{"location": "b"}},
		{`{"":5,"v":1}`, map[string]float64{"v": 1}, nil},
		{"{ \"v\" : 1 , \"w\" :\n\t2 }", map[string]float64{"v": 1, "w": 2}, nil},
		{`{"v":1,"ts":null,"time":null}`, map[string]float64{"v": 1}, nil},
		{`{"big":123456789012345678901234567890,"tiny":1e-400,"max":1.7976931348623157e308}`, map[string]float64{"big": 1.2345678901234568e29, "tiny": 0, "max": 1.7976931348623157e308}, nil},
		{`{"v":1,"o":{"x":1e999}}`, map[string]float64{"v": 1}, nil}, // undeclared: never parsed
	}
	for _, tc := range tests {
		p, rej := decodeTestJSON(testSpec(), tc.payload)
		if rej != nil {
			t.Errorf("%s: %v", tc.payload, rej)
			continue
		}
		checkPoint(t, p, want{"m", tc.tags, tc.fields, recv})
	}
}

func TestDecodeJSONDuplicateKeys(t *testing.T) {
	p, rej := decodeTestJSON(testSpec(), `{"v":1,"w":2,"v":3,"lat":4,"gps":{"lat":5}}`)
	if rej != nil {
		t.Fatal(rej)
	}
	want := []telemetry.Field{{Key: "v", Value: 3}, {Key: "w", Value: 2}, {Key: "lat", Value: 5}}
	if len(p.Fields) != len(want) {
		t.Fatalf("fields = %v, want %v", p.Fields, want)
	}
	for i := range want {
		if p.Fields[i] != want[i] {
			t.Fatalf("fields = %v, want %v (first position, last value)", p.Fields, want)
		}
	}
}

func TestDecodeJSONRejects(t *testing.T) {
	deep := func(n int) string {
		return `{"v":1,"x":` + strings.Repeat(`{"a":`, n-1) + "1" + strings.Repeat("}", n)
	}
	tests := []struct{ payload, reason string }{
		{"", ReasonBadJSON}, {"   ", ReasonBadJSON},
		{"{", ReasonBadJSON}, {`{"v"`, ReasonBadJSON}, {`{"v":`, ReasonBadJSON},
		{`{"v":1`, ReasonBadJSON}, {`{"v":1,`, ReasonBadJSON}, {`{"v":1,}`, ReasonBadJSON},
		{`{"v":01}`, ReasonBadJSON}, {`{"v":.5}`, ReasonBadJSON}, {`{"v":1.}`, ReasonBadJSON},
		{`{"v":+1}`, ReasonBadJSON}, {`{"v":NaN}`, ReasonBadJSON}, {`{"v":Infinity}`, ReasonBadJSON},
		{`{"v":-}`, ReasonBadJSON}, {`{"v":1e}`, ReasonBadJSON}, {`{"v":0x10}`, ReasonBadJSON},
		{`{'v':1}`, ReasonBadJSON}, {`{v:1}`, ReasonBadJSON}, {`{"v":1}}`, ReasonBadJSON},
		{`{"v":1} {"w":2}`, ReasonBadJSON}, {`{"v":1}x`, ReasonBadJSON}, {`{"v":tru}`, ReasonBadJSON},
		{`{"v":True}`, ReasonBadJSON}, {"{\"v\":1,\"s\":\"a\x01\"}", ReasonBadJSON},
		{`{"v":1,"s":"\q"}`, ReasonBadJSON}, {`{"v":1,"s":"\u12"}`, ReasonBadJSON},
		{"{\"v\xff\":1}", ReasonBadJSON}, {"{\"v\":1,\"s\":\"\xc3\x28\"}", ReasonBadJSON},
		{"\xef\xbb\xbf{\"v\":1}", ReasonBadJSON}, {`{"v":1,"a":[1,2}`, ReasonBadJSON},
		{`{"v":1,"a":[1 2]}`, ReasonBadJSON}, {`{"v":1,"s":"unterminated}`, ReasonBadJSON},
		{`[1]`, ReasonBadJSON}, {`"s"`, ReasonBadJSON}, {`null`, ReasonBadJSON}, {`1`, ReasonBadJSON},
		{deep(maxJSONDepth), ""}, {deep(maxJSONDepth + 1), ReasonBadJSON},
		{strings.Repeat("[", 100000), ReasonBadJSON},
		{`{"v":1,"a":` + strings.Repeat("[", 100000) + `}`, ReasonBadJSON},
		{`{"v":1e400}`, ReasonOutOfRange}, {`{"v":-1e309}`, ReasonOutOfRange},
		{`{"gps":{"lat":1e999}}`, ReasonOutOfRange},
		{`{}`, ReasonNoNumericField}, {`{"s":"x"}`, ReasonNoNumericField}, {`{"n":null}`, ReasonNoNumericField},
		{`{"o":{"x":1}}`, ReasonNoNumericField}, {`{"ts":1732480000}`, ReasonNoNumericField},
		{`{"a":[1,2,3]}`, ReasonNoNumericField}, {`{"":1}`, ReasonNoNumericField},
	}
	for _, tc := range tests {
		_, rej := decodeTestJSON(testSpec(), tc.payload)
		got := ""
		if rej != nil {
			got = rej.Reason
		}
		if got != tc.reason {
			t.Errorf("%.60q: reason %q (%v), want %q", tc.payload, got, rej, tc.reason)
		}
	}
}

func TestDecodeJSONTimestamps(t *testing.T) {
	at := func(s string) time.Time {
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	for _, tc := range timestampCases {
		payload := `{"v":1,"` + tc.key + `":` + tc.value + `}`
		p, rej := decodeTestJSON(testSpec(), payload)
		switch {
		case tc.want == "" && (rej == nil || rej.Reason != ReasonBadTimestamp):
			t.Errorf("%s: got %v %v, want bad_timestamp", payload, p.Time, rej)
		case tc.want != "" && rej != nil:
			t.Errorf("%s: %v", payload, rej)
		case tc.want != "" && !p.Time.Equal(at(tc.want)):
			t.Errorf("%s: time %s, want %s", payload, p.Time.Format(time.RFC3339Nano), tc.want)
		case rej == nil && len(p.Fields) != 1:
			t.Errorf("%s: timestamp stored as a field: %v", payload, p.Fields)
		}
	}
}

func BenchmarkDecodeJSON(b *testing.B) {
	spec := newJSONSpec(nil, []string{"location"}, []string{"value", "quality"})
	payload := []byte(`{"value":23.5,"location":"hall","quality":0.9,"battery":87,"rssi":-67,"ts":1732480000.25}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		p := telemetry.Point{Fields: make([]telemetry.Field, 0, 8), Tags: make([]telemetry.Tag, 0, 2)}
		if _, rej := decodeJSONObject(payload, spec, &p, recv); rej != nil {
			b.Fatal(rej)
		}
	}
}

// FuzzDecodeJSON checks decodeJSONObject against refDecodeJSON (built on
// encoding/json): same verdict, same fields and tags, same time.
func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"value":23.5,"location":"hall","quality":0.9}`))
	f.Add([]byte(`{"gps":{"lat":1.5,"lon":-2},"meta":{"zone":"B"},"ts":1732480000.25}`))
	spec := testSpec()
	f.Fuzz(func(t *testing.T, payload []byte) {
		got, rej := decodeTestJSON(spec, string(payload))
		gotReason := ""
		if rej != nil {
			gotReason = rej.Reason
		}
		ref, refReason := refDecodeJSON(payload, spec)
		if gotReason == ReasonBadJSON && refReason != ReasonBadJSON {
			if utf8.Valid(payload) && jsonNesting(payload) <= maxJSONDepth {
				t.Fatalf("%q: bad_json (%v), but encoding/json accepts it (%q)", payload, rej, refReason)
			}
			return
		}
		if gotReason != refReason {
			t.Fatalf("%q: reason %q (%v), reference %q", payload, gotReason, rej, refReason)
		}
		if rej != nil {
			return
		}
		if err := pointInvariants(got); err != nil {
			t.Fatalf("%q: %v", payload, err)
		}
		if !slices.Equal(got.Fields, ref.Fields) || !slices.Equal(got.Tags, ref.Tags) || !got.Time.Equal(ref.Time) {
			t.Fatalf("%q:\n got %+v\nwant %+v", payload, got, ref)
		}
	})
}

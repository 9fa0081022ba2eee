package ingest

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

// timestampCases: a JSON timestamp member and the time it means ("" for
// bad_timestamp).
var timestampCases = []struct{ key, value, want string }{
	// RFC 3339 strings, with and without fraction and zone.
	{"ts", `"2024-11-24T22:53:00Z"`, "2024-11-24T22:53:00Z"},
	{"ts", `"2024-11-24T22:53:00.123456789Z"`, "2024-11-24T22:53:00.123456789Z"},
	{"ts", `"2024-11-24T22:53:00+01:00"`, "2024-11-24T21:53:00Z"},
	{"ts", `"2024-11-24T22:53:00.5-03:00"`, "2024-11-25T01:53:00.5Z"},
	{"time", `"2024-11-24T22:53:00.123456"`, "2024-11-24T22:53:00.123456Z"},
	{"time", `"2024-11-24T22:53:00"`, "2024-11-24T22:53:00Z"},
	{"timestamp", `"2024-11-24T22:53:00\u005a"`, "2024-11-24T22:53:00Z"},
	// Unix seconds, milliseconds, microseconds, nanoseconds.
	{"timestamp", `1732480000`, "2024-11-24T20:26:40Z"},
	{"ts", `1732480000.25`, "2024-11-24T20:26:40.25Z"},
	{"ts", `1732480000123`, "2024-11-24T20:26:40.123Z"},
	{"ts", `1732480000123.5`, "2024-11-24T20:26:40.1235Z"},
	{"ts", `1.732480000123e12`, "2024-11-24T20:26:40.123Z"},
	{"ts", `1732480000123456`, "2024-11-24T20:26:40.123456Z"},
	{"ts", `1732480000123456789`, "2024-11-24T20:26:40.123456789Z"},
	// Range edges: [2000-01-01, 2262-04-11T23:47:16.854775807Z].
	{"ts", `946684800`, "2000-01-01T00:00:00Z"},
	{"ts", `946684799`, ""},
	{"ts", `9223372036`, "2262-04-11T23:47:16Z"},
	{"ts", `9223372037`, ""},
	{"ts", `99999999999`, ""},  // seconds, year 5138
	{"ts", `100000000000`, ""}, // milliseconds, 1973
	{"ts", `946684800000`, "2000-01-01T00:00:00Z"},
	{"ts", `946684800000000`, "2000-01-01T00:00:00Z"},
	{"ts", `946684800000000000`, "2000-01-01T00:00:00Z"},
	{"ts", `9223372036854775807`, "2262-04-11T23:47:16.854775807Z"},
	{"ts", `9223372036854775808`, ""},
	{"ts", `1e30`, ""},
	{"ts", `0`, ""},
	{"ts", `-1`, ""},
	{"ts", `-1732480000`, ""},
	{"ts", `"1999-12-31T23:59:59Z"`, ""},
	// Not timestamps.
	{"ts", `true`, ""},
	{"ts", `false`, ""},
	{"ts", `{}`, ""},
	{"ts", `[]`, ""},
	{"ts", `"yesterday"`, ""},
	{"ts", `"2024-11-24"`, ""},
	{"ts", `"2024-13-01T00:00:00Z"`, ""},
	{"ts", `"2024-11-24 22:53:00Z"`, ""},
	{"ts", `"1732480000"`, ""},
	{"ts", `""`, ""},
}

func TestLineTime(t *testing.T) {
	tests := []struct {
		v    int64
		prec time.Duration
		want string
	}{
		{1732480000, time.Second, "2024-11-24T20:26:40Z"},
		{1732480000123, time.Millisecond, "2024-11-24T20:26:40.123Z"},
		{1732480000123456, time.Microsecond, "2024-11-24T20:26:40.123456Z"},
		{1732480000123456789, time.Nanosecond, "2024-11-24T20:26:40.123456789Z"},
		{1732480000123, time.Nanosecond, ""},        // 1970
		{1732480000123456, time.Second, ""},         // overflow
		{9223372036854775807, time.Millisecond, ""}, // overflow
		{-1, time.Second, ""},
	}
	for _, tc := range tests {
		got, rej := lineTime(tc.v, tc.prec)
		switch {
		case tc.want == "" && (rej == nil || rej.Reason != ReasonBadTimestamp):
			t.Errorf("lineTime(%d, %s) = %v, %v; want bad_timestamp", tc.v, tc.prec, got, rej)
		case tc.want != "" && (rej != nil || got.Format(time.RFC3339Nano) != tc.want):
			t.Errorf("lineTime(%d, %s) = %v, %v; want %s", tc.v, tc.prec, got, rej, tc.want)
		}
	}
}

func TestTimesAreUTC(t *testing.T) {
	for _, lit := range []string{"2024-11-24T22:53:00+05:30", "2024-11-24T22:53:00"} {
		ts, rej := stringTime([]byte(lit))
		if rej != nil || ts.Location() != time.UTC {
			t.Errorf("%s: %v %v", lit, ts, rej)
		}
	}
}

// FuzzParseTimestamp checks that every accepted timestamp is UTC and in
// range, that integer seconds are exact, that fractional ones are within a
// microsecond, and that strings survive an RFC 3339 round trip.
func FuzzParseTimestamp(f *testing.F) {
	for _, tc := range timestampCases {
		f.Add(strings.Trim(tc.value, `"`))
	}
	f.Fuzz(func(t *testing.T, s string) {
		check := func(ts time.Time, rej *Rejection) bool {
			if rej != nil {
				if rej.Reason != ReasonBadTimestamp {
					t.Fatalf("%q: reason %q", s, rej.Reason)
				}
				return false
			}
			if ts.Location() != time.UTC || ts.Before(minTime) || ts.After(maxTime) {
				t.Fatalf("%q: accepted %v", s, ts)
			}
			return true
		}
		if ts, rej := stringTime([]byte(s)); check(ts, rej) {
			again, rej := stringTime([]byte(ts.Format(time.RFC3339Nano)))
			if rej != nil || !again.Equal(ts) {
				t.Fatalf("%q: %v does not round-trip: %v %v", s, ts, again, rej)
			}
		}
		if s == "" || scanJSONNumber([]byte(s), 0) != len(s) {
			return
		}
		ts, rej := numberTime([]byte(s))
		if !check(ts, rej) {
			return
		}
		if v, err := strconv.ParseInt(s, 10, 64); err == nil && v < 1e11 && !ts.Equal(time.Unix(v, 0)) {
			t.Fatalf("%q: %v, want %v", s, ts, time.Unix(v, 0).UTC())
		}
		if v, err := strconv.ParseFloat(s, 64); err == nil && v < 1e11 {
			if d := ts.Sub(time.Unix(0, 0)).Seconds() - v; math.Abs(d) > 1e-6 {
				t.Fatalf("%q: %v is %gs off", s, ts, d)
			}
		}
	})
}

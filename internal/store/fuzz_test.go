package store

import (
	"math"
	"strconv"
	"testing"
)

// FuzzParseTime checks the API's time and duration parameter parsers never
// panic, and that what they accept round-trips.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"1700000000", "1700000000.123", "-1.5", "2026-11-24T23:10:59Z",
		"2026-11-24T23:10:59.123456789+02:00", "15s", "1m30s", "2d", "NaN", "+Inf", "1e400",
		minTimeFormatted, maxTimeFormatted, ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ts, err := parseTime(s); err == nil {
			if f, ferr := strconv.ParseFloat(s, 64); ferr == nil {
				if d := math.Abs(float64(ts.UnixNano())/1e9 - f); d > 0.001+math.Abs(f)*1e-15 && ts.Year() > 1700 && ts.Year() < 2200 {
					t.Errorf("parseTime(%q) = %v, off by %gs", s, ts, d)
				}
			}
		}
		if d, err := parseDuration(s); err == nil {
			if f, ferr := strconv.ParseFloat(s, 64); ferr == nil && !math.IsInf(f, 0) {
				if diff := math.Abs(d.Seconds() - f); diff > 1e-6+math.Abs(f)*1e-9 {
					t.Errorf("parseDuration(%q) = %v, want %gs", s, d, f)
				}
			}
			_ = d.String()
		}
	})
}

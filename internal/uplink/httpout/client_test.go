package httpout

import (
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	for code, want := range map[int]verdict{
		200: delivered, 204: delivered,
		400: rejected, 413: rejected, 422: rejected,
		401: retry, 403: retry, 404: retry, 405: retry, 408: retry, 415: retry, 429: retry,
		500: retry, 502: retry, 503: retry, 302: retry,
	} {
		if got := classify(code); got != want {
			t.Errorf("classify(%d) = %v, want %v", code, got, want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"7":                             7 * time.Second,
		" 2 ":                           2 * time.Second,
		"-3":                            0,
		"soon":                          0,
		"Fri, 02 Jan 2026 03:04:35 GMT": 30 * time.Second,
		"Fri, 02 Jan 2026 03:00:00 GMT": 0,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestSelector(t *testing.T) {
	for _, tc := range []struct {
		include, exclude []string
		m                string
		want             bool
	}{
		{nil, nil, "anything", true},
		{[]string{"sensors_*"}, nil, "sensors_temperature", true},
		{[]string{"sensors_*"}, nil, "vehicles_location", false},
		{[]string{"sensors_*", "vehicles_*"}, []string{"*_debug"}, "vehicles_debug", false},
		{nil, []string{"cpu"}, "cpu", false},
		{nil, []string{"cpu"}, "cpu2", true},
	} {
		s := newSelector(tc.include, tc.exclude)
		for range 2 { // second answer from the cache
			if got := s.keep(tc.m); got != tc.want {
				t.Errorf("%v - %v keep(%q) = %v", tc.include, tc.exclude, tc.m, got)
			}
		}
	}
}

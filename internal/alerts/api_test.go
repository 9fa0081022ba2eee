package alerts

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/testkit"
)

type apiResult struct {
	Status    string      `json:"status"`
	Data      []alertJSON `json:"data"`
	ErrorType string      `json:"errorType"`
	Error     string      `json:"error"`
}

func get(t *testing.T, mux http.Handler, query string) (int, apiResult, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/alerts?"+query, nil))
	var r apiResult
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatalf("%s: %v", rec.Body, err)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content type %q", ct)
	}
	return rec.Code, r, rec.Body.String()
}

func TestAPI(t *testing.T) {
	clk := newClock(t0)
	d, _, _ := testDispatcher(t, DefaultConfig(), clk.Now)
	mux := http.NewServeMux()
	d.Register(mux)
	if code, r, _ := get(t, mux, ""); code != http.StatusServiceUnavailable || r.ErrorType != "unavailable" {
		t.Fatalf("before Run: %d %+v", code, r)
	}
	run(t, d)
	for _, a := range fixture(t) {
		d.Notify(a)
		clk.Advance(time.Second)
	}
	written := d.m.historyWritten.WithLabelValues(backendBolt)
	testkit.Eventually(t, 10*time.Second, "fixture written", func() bool { return counter(written) == 6 })

	for _, tt := range filterCases {
		t.Run(tt.name, func(t *testing.T) {
			code, r, body := get(t, mux, tt.query)
			got := make([]string, len(r.Data))
			for i, a := range r.Data {
				got[i] = a.ID + "/" + a.State
			}
			if code != http.StatusOK || r.Status != "success" || !slices.Equal(got, tt.want) {
				t.Fatalf("%s: %d %s, want %v", tt.query, code, body, tt.want)
			}
			if len(tt.want) == 0 && !strings.Contains(body, `"data":[]`) {
				t.Fatalf("empty result is not []: %s", body)
			}
		})
	}
	t.Run("NaN value is null", func(t *testing.T) {
		_, _, body := get(t, mux, "rule=silent")
		if !strings.Contains(body, `"value":null`) {
			t.Fatalf("%s", body)
		}
	})
	bad := []struct{ query, want string }{
		{"state=open", `invalid parameter "state"`},
		{"start=yesterday", `invalid parameter "start": cannot parse "yesterday"`},
		{"end=NaN", `invalid parameter "end"`},
		{"start=1700000100&end=1700000000", "end timestamp must not be before start time"},
		{"limit=0", `invalid parameter "limit": "0" is not an integer in 1..10000`},
		{"limit=10001", `invalid parameter "limit"`},
		{"limit=ten", `invalid parameter "limit"`},
	}
	for _, tt := range bad {
		t.Run("bad "+tt.query, func(t *testing.T) {
			code, r, body := get(t, mux, tt.query)
			if code != http.StatusBadRequest || r.Status != "error" || r.ErrorType != "bad_data" ||
				!strings.Contains(r.Error, tt.want) {
				t.Fatalf("%d %s, want 400 bad_data %q", code, body, tt.want)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"", time.Time{}, true},
		{"1700000000", t0, true},
		{"1700000000.25", t0.Add(250 * time.Millisecond), true},
		{"2023-11-14T22:13:20Z", t0, true},
		{"2023-11-14T23:13:20.5+01:00", t0.Add(500 * time.Millisecond), true},
		{"2023-11-14", time.Time{}, false},
		{"+Inf", time.Time{}, false},
		{"1e20", time.Time{}, false},
	}
	for _, tt := range tests {
		got, err := parseTime(tt.in)
		if (err == nil) != tt.ok || !got.Equal(tt.want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

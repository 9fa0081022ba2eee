package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/telemetry"
	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql"
)

// seed appends 5 minutes of 10s readings of two devices, like the seed's
// simulator: value (temperature) and quality fields.
func seed(t *testing.T, s *Store, end time.Time) {
	t.Helper()
	var pts []telemetry.Point
	for i := range 30 {
		ts := end.Add(time.Duration(i-29) * 10 * time.Second)
		for d, loc := range map[string]string{"s1": "lab", "s2": "hall"} {
			pts = append(pts, point("sensors_temperature", ts,
				map[string]string{"device_id": d, "location": loc}, "value", 20+float64(i)/10, "quality", 1))
		}
	}
	if res := mustAppend(t, s, pts...); res.Appended != 120 {
		t.Fatalf("seed: %+v", res)
	}
}

func newAPI(t *testing.T, s *Store) (v1.API, *httptest.Server) {
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	c, err := api.NewClient(api.Config{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return v1.NewAPI(c), srv
}

func TestQueryAPI(t *testing.T) {
	s, _, _ := startStore(t, DefaultConfig(), t.TempDir())
	end := time.Now().Truncate(time.Second)
	seed(t, s, end)
	a, _ := newAPI(t, s)
	ctx := context.Background()

	t.Run("query", func(t *testing.T) {
		v, _, _, err := a.Query(ctx, `sensors_temperature{device_id="s1"}`, end)
		if err != nil {
			t.Fatal(err)
		}
		vec := v.(model.Vector)
		if len(vec) != 1 || float64(vec[0].Value) != 22.9 || vec[0].Metric["location"] != "lab" {
			t.Errorf("got %v", vec)
		}
		if !vec[0].Timestamp.Time().Equal(end) {
			t.Errorf("timestamp %v, want %v", vec[0].Timestamp.Time(), end)
		}
	})
	t.Run("query scalar and empty", func(t *testing.T) {
		v, _, _, err := a.Query(ctx, `count(sensors_temperature_quality)`, end)
		if err != nil || v.(model.Vector)[0].Value != 2 {
			t.Errorf("count: %v %v", v, err)
		}
		v, _, _, err = a.Query(ctx, `nothing_here`, end)
		if err != nil || len(v.(model.Vector)) != 0 {
			t.Errorf("empty: %v %v", v, err)
		}
	})
	t.Run("query_range", func(t *testing.T) {
		r := v1.Range{Start: end.Add(-290 * time.Second), End: end, Step: 10 * time.Second}
		v, _, _, err := a.QueryRange(ctx, `sensors_temperature`, r)
		if err != nil {
			t.Fatal(err)
		}
		m := v.(model.Matrix)
		if len(m) != 2 || len(m[0].Values) != 30 || float64(m[0].Values[0].Value) != 20 {
			t.Errorf("got %d series: %v", len(m), m)
		}
	})
	t.Run("series", func(t *testing.T) {
		got, _, _, err := a.Series(ctx, []string{`sensors_temperature_quality`, `{device_id="s1"}`}, end.Add(-time.Hour), end)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 { // two quality series, plus s1's temperature
			t.Errorf("got %v", got)
		}
	})
	t.Run("labels", func(t *testing.T) {
		got, _, _, err := a.LabelNames(ctx, nil, time.Time{}, time.Time{})
		if err != nil || !slices.Equal(got, model.LabelNames{"__name__", "device_id", "location"}) {
			t.Errorf("got %v %v", got, err)
		}
		got, _, _, err = a.LabelNames(ctx, []string{`{__name__="nope"}`}, end.Add(-time.Hour), end)
		if err != nil || len(got) != 0 {
			t.Errorf("with matcher: %v %v", got, err)
		}
	})
	t.Run("label values", func(t *testing.T) {
		got, _, _, err := a.LabelValues(ctx, "device_id", nil, time.Time{}, time.Time{})
		if err != nil || !slices.Equal(got, model.LabelValues{"s1", "s2"}) {
			t.Errorf("got %v %v", got, err)
		}
		got, _, _, err = a.LabelValues(ctx, "__name__", []string{`{location="lab"}`}, end.Add(-time.Hour), end)
		if err != nil || !slices.Equal(got, model.LabelValues{"sensors_temperature", "sensors_temperature_quality"}) {
			t.Errorf("names: %v %v", got, err)
		}
	})
	t.Run("buildinfo", func(t *testing.T) {
		bi, err := a.Buildinfo(ctx)
		if err != nil || bi.Version == "" || bi.GoVersion == "" {
			t.Errorf("got %+v %v", bi, err)
		}
	})
	t.Run("bad query", func(t *testing.T) {
		_, _, _, err := a.Query(ctx, `sum(`, end)
		var apiErr *v1.Error
		if !errors.As(err, &apiErr) || apiErr.Type != v1.ErrBadData {
			t.Errorf("got %v", err)
		}
	})
}

func TestQueryAPIRaw(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxSamples = 10
	s, _, _ := startStore(t, cfg, t.TempDir())
	end := time.Now().Truncate(time.Second)
	seed(t, s, end)
	_, srv := newAPI(t, s)
	now := strings.TrimSuffix(end.Format(time.RFC3339), "Z") + "Z"
	tests := []struct {
		name     string
		method   string
		path     string
		params   string
		code     int
		errType  string
		contains string
	}{
		{"post query", "POST", "/api/v1/query", "query=sensors_temperature&time=" + now, 200, "", `"resultType":"vector"`},
		{"unix float time", "GET", "/api/v1/query", "query=1%2B1&time=1700000000.123", 200, "", `"result":[1700000000.123,"2"]`},
		{"scalar", "GET", "/api/v1/query", "query=3", 200, "", `"resultType":"scalar"`},
		{"string", "GET", "/api/v1/query", "query=%22x%22", 200, "", `"resultType":"string"`},
		{"range duration step", "POST", "/api/v1/query_range", "query=up&start=1700000000&end=1700000060&step=15s", 200, "", `"resultType":"matrix","result":[]`},
		{"metadata", "GET", "/api/v1/metadata", "", 200, "", `"data":{}`},
		{"parse error", "GET", "/api/v1/query", "query=sum(", 400, "bad_data", `invalid parameter \"query\"`},
		{"no query", "GET", "/api/v1/query", "", 400, "bad_data", ""},
		{"bad time", "GET", "/api/v1/query", "query=1&time=yesterday", 400, "bad_data", `invalid parameter \"time\"`},
		{"bad step", "GET", "/api/v1/query_range", "query=1&start=1&end=2&step=0", 400, "bad_data", "zero or negative"},
		{"end before start", "GET", "/api/v1/query_range", "query=1&start=2&end=1&step=1", 400, "bad_data", "end timestamp"},
		{"too many points", "GET", "/api/v1/query_range", "query=1&start=0&end=100000&step=1", 400, "bad_data", "11,000"},
		{"missing step", "GET", "/api/v1/query_range", "query=1&start=0&end=1", 400, "bad_data", "step"},
		{"too many samples", "GET", "/api/v1/query", "query=sensors_temperature[5m]&time=" + now, 422, "execution", "too many samples"},
		{"bad timeout", "GET", "/api/v1/query", "query=1&timeout=soon", 400, "bad_data", `invalid parameter \"timeout\"`},
		{"timeout ok", "POST", "/api/v1/query", "query=1&timeout=1.5", 200, "", ""},
		{"series without match", "GET", "/api/v1/series", "", 400, "bad_data", "no match[]"},
		{"series empty matcher", "GET", "/api/v1/series", "match[]={a=~\".*\"}", 400, "bad_data", "non-empty"},
		{"label bad matcher", "GET", "/api/v1/label/device_id/values", "match[]=sum(", 400, "bad_data", "match[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var resp *http.Response
			var err error
			if tt.method == "POST" {
				resp, err = http.Post(srv.URL+tt.path, "application/x-www-form-urlencoded", strings.NewReader(tt.params))
			} else {
				resp, err = http.Get(srv.URL + tt.path + "?" + tt.params)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body strings.Builder
			var env apiResponse
			_ = json.NewDecoder(teeReader{resp.Body, &body}).Decode(&env)
			if resp.StatusCode != tt.code || env.ErrorType != tt.errType || !strings.Contains(body.String(), tt.contains) {
				t.Errorf("got %d %s", resp.StatusCode, body.String())
			}
			if resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("content type %q", resp.Header.Get("Content-Type"))
			}
			wantStatus := map[bool]string{true: "success", false: "error"}[tt.code == 200]
			if env.Status != wantStatus {
				t.Errorf("status %q", env.Status)
			}
		})
	}
}

func TestQueryAPINotReady(t *testing.T) {
	s := New(DefaultConfig(), Deps{Dir: t.TempDir()})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	resp, err := http.PostForm(srv.URL+"/api/v1/query", url.Values{"query": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status %d", resp.StatusCode)
	}
}

func TestErrorType(t *testing.T) {
	tests := []struct {
		err  error
		typ  string
		code int
	}{
		{paramError("x", errors.New("bad")), "bad_data", 400},
		{promql.ErrQueryTimeout("query execution"), "timeout", 503},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), "timeout", 503},
		{promql.ErrQueryCanceled("query execution"), "canceled", 499},
		{context.Canceled, "canceled", 499},
		{ErrNotReady, "unavailable", 503},
		{promql.ErrStorage{Err: errors.New("disk")}, "internal", 500},
		{promql.ErrTooManySamples("query execution"), "execution", 422},
	}
	for _, tt := range tests {
		if typ, code := errorType(tt.err); typ != tt.typ || code != tt.code {
			t.Errorf("errorType(%v) = %s %d, want %s %d", tt.err, typ, code, tt.typ, tt.code)
		}
	}
}

func TestPromVersion(t *testing.T) {
	for in, want := range map[string]string{"v0.316.0": "3.16.0", "v0.300.1": "3.0.1", "v0.55.0": "x", "v1.2.3": "x"} {
		if got := promVersion(in, "x"); got != want {
			t.Errorf("promVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

type teeReader struct {
	r interface{ Read([]byte) (int, error) }
	w *strings.Builder
}

func (t teeReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.w.Write(p[:n])
	return n, err
}

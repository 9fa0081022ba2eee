package writeapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/borda-edge/borda/internal/telemetry"
)

// recorder is the Writer: it keeps what it was given, or fails with err.
type recorder struct {
	mu  sync.Mutex
	pts []telemetry.Point
	err error
}

func (r *recorder) Write(_ context.Context, pts []telemetry.Point) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.pts = append(r.pts, pts...)
	return nil
}

var recv = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newTestAPI(t *testing.T, w Writer) (*API, *httptest.Server) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := DefaultConfig()
	cfg.MaxBodyBytes = 4096
	a := New(cfg, Deps{Logger: log, Limited: log, Registry: prometheus.NewRegistry(), Writer: w, Version: "test"})
	a.now = func() time.Time { return recv }
	mux := http.NewServeMux()
	a.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return a, srv
}

func gz(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(s))
	_ = zw.Close()
	return b.Bytes()
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name, path, encoding string
		body                 []byte
		status               int
		points               int
		time                 time.Time // of the first point
		errPart              string    // in the error body
		errKey               string    // "error" (v1) or "message" (v2)
	}{
		{name: "v1 nanoseconds", path: "/write?db=x", body: []byte("m,host=a value=1 1700000000000000000\nm,host=b value=2i"),
			status: 204, points: 2, time: time.Unix(1700000000, 0)},
		{name: "v1 seconds", path: "/write?db=x&precision=s", body: []byte("m value=1 1700000000"),
			status: 204, points: 1, time: time.Unix(1700000000, 0)},
		{name: "v1 hours", path: "/write?precision=h", body: []byte("m value=1 472222"),
			status: 204, points: 1, time: time.Unix(472222*3600, 0)},
		{name: "v2 ms", path: "/api/v2/write?org=o&bucket=b&precision=ms", body: []byte("m value=1 1700000000123"),
			status: 204, points: 1, time: time.UnixMilli(1700000000123)},
		{name: "no timestamp: receive time", path: "/write", body: []byte("m value=1"), status: 204, points: 1, time: recv},
		{name: "gzip", path: "/api/v2/write?precision=s", encoding: "gzip", body: gz("m value=1 1700000000\nm value=2 1700000001"),
			status: 204, points: 2, time: time.Unix(1700000000, 0)},
		{name: "partial write v1", path: "/write", body: []byte("m value=1 1700000000000000000\nm value=\nm\nm value=3"),
			status: 400, points: 2, time: time.Unix(1700000000, 0), errPart: "partial write: 2 points written, 2 lines dropped", errKey: "error"},
		{name: "partial write v2", path: "/api/v2/write", body: []byte("m value=oops\nm value=3"),
			status: 400, points: 1, time: recv, errPart: "line 1", errKey: "message"},
		{name: "bad precision v1", path: "/write?precision=days", body: []byte("m value=1"), status: 400, errPart: "invalid precision", errKey: "error"},
		{name: "v1 precision not v2", path: "/api/v2/write?precision=h", body: []byte("m value=1"), status: 400, errPart: "invalid precision", errKey: "message"},
		{name: "empty body", path: "/write", body: nil, status: 400, errPart: "empty_payload", errKey: "error"},
		{name: "too large", path: "/write", body: bytes.Repeat([]byte("m value=1\n"), 500), status: 413, errPart: "max_body_bytes", errKey: "error"},
		{name: "gzip bomb", path: "/write", encoding: "gzip", body: gz(strings.Repeat("m value=1\n", 5000)), status: 413, errPart: "max_body_bytes", errKey: "error"},
		{name: "not gzip", path: "/write", encoding: "gzip", body: []byte("m value=1"), status: 400, errPart: "gzip", errKey: "error"},
		{name: "unknown encoding", path: "/api/v2/write", encoding: "br", body: []byte("m value=1"), status: 415, errPart: "Content-Encoding", errKey: "message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			_, srv := newTestAPI(t, rec)
			req, _ := http.NewRequest(http.MethodPost, srv.URL+tt.path, bytes.NewReader(tt.body))
			if tt.encoding != "" {
				req.Header.Set("Content-Encoding", tt.encoding)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (body %s)", resp.StatusCode, tt.status, body)
			}
			if len(rec.pts) != tt.points {
				t.Fatalf("%d points written, want %d", len(rec.pts), tt.points)
			}
			if tt.points > 0 && !rec.pts[0].Time.Equal(tt.time) {
				t.Errorf("first point at %v, want %v", rec.pts[0].Time, tt.time)
			}
			if tt.errKey != "" {
				var e map[string]string
				if err := json.Unmarshal(body, &e); err != nil || !strings.Contains(e[tt.errKey], tt.errPart) {
					t.Errorf("error body %s: want %q containing %q", body, tt.errKey, tt.errPart)
				}
			}
		})
	}
}

// TestTelegrafBatch: a batch as Telegraf's influxdb output sends it, with
// a string-only line and a broken line among good ones: the good lines are
// stored, the two bad ones are counted by reason and reported (400 partial
// write, which Telegraf logs and does not retry).
func TestTelegrafBatch(t *testing.T) {
	body, err := os.ReadFile("testdata/telegraf.lp")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	a, srv := newTestAPI(t, rec)
	resp, err := http.Post(srv.URL+"/write?db=telegraf", "text/plain", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	const good = 8
	if resp.StatusCode != 400 || len(rec.pts) != good {
		t.Fatalf("status %d, %d points, want 400 (partial write) and %d", resp.StatusCode, len(rec.pts), good)
	}
	checks := []struct {
		name string
		c    prometheus.Collector
		want float64
	}{
		{"points", a.m.points, good},
		{"requests{v1,400}", a.m.requests.WithLabelValues("v1", "400"), 1},
		{"rejected{no_numeric_field}", a.m.rejected.WithLabelValues("no_numeric_field"), 1},
		{"rejected{bad_line_protocol}", a.m.rejected.WithLabelValues("bad_line_protocol"), 1},
	}
	for _, c := range checks {
		if got := testutil.ToFloat64(c.c); got != c.want {
			t.Errorf("%s = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestStoreFailure: when nothing could be stored the client is told to
// retry (503), so Telegraf keeps its batch.
func TestStoreFailure(t *testing.T) {
	_, srv := newTestAPI(t, &recorder{err: errors.New("ingest pipeline stopped")})
	resp, err := http.Post(srv.URL+"/api/v2/write", "text/plain", strings.NewReader("m value=1"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&e)
	if resp.StatusCode != 503 || e["code"] != "unavailable" || !strings.Contains(e["message"], "pipeline stopped") {
		t.Fatalf("status %d body %v, want 503 unavailable naming the cause", resp.StatusCode, e)
	}
}

func TestProbes(t *testing.T) {
	_, srv := newTestAPI(t, &recorder{})
	tests := []struct {
		method, path, form string
		status             int
		want               string
	}{
		{"GET", "/ping", "", 204, ""},
		{"HEAD", "/ping", "", 204, ""},
		{"GET", "/health", "", 200, `"status":"pass"`},
		{"POST", "/query", "q=CREATE+DATABASE+telegraf", 200, `"statement_id":0`},
		{"GET", "/query?q=create%20database%20%22x%22", "", 200, `"statement_id":0`},
		{"POST", "/query", "q=SELECT+*+FROM+cpu", 400, "PromQL"},
	}
	for _, tt := range tests {
		var body io.Reader
		if tt.form != "" {
			body = strings.NewReader(tt.form)
		}
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, body)
		if tt.form != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.want) {
			t.Errorf("%s %s: %d %s, want %d containing %q", tt.method, tt.path, resp.StatusCode, b, tt.status, tt.want)
		}
	}
}

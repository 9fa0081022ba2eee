// Package writeapi accepts InfluxDB line protocol over HTTP, so Telegraf,
// InfluxDB client libraries and scripts that push to InfluxDB can push to
// borda unchanged: POST /write (InfluxDB 1.x) and POST /api/v2/write
// (InfluxDB 2.x), plus the small endpoints those clients probe (/ping,
// /health, and CREATE DATABASE on /query).
//
// A request returns only once its points are stored (or storing failed),
// like a QoS 1 publish. Bad lines are rejected one by one with a counted
// reason; the good lines of the same request are still written, and the
// response says how many were dropped (InfluxDB's "partial write").
package writeapi

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/ingest"
	"github.com/borda-edge/borda/internal/telemetry"
)

// Writer stores points and returns once they are stored (pipeline.Write).
type Writer interface {
	Write(ctx context.Context, pts []telemetry.Point) error
}

// Deps are what the API needs.
type Deps struct {
	Logger   *slog.Logger // component=write
	Limited  *slog.Logger // rate-limited, for per-request lines
	Registry prometheus.Registerer
	Writer   Writer
	Version  string // reported by /ping and /health
}

// API is the line-protocol write API. Register its routes on a mux.
type API struct {
	cfg Config
	d   Deps
	m   *metrics
	now func() time.Time
}

// New builds the API from a validated Config.
func New(cfg Config, d Deps) *API {
	return &API{cfg: cfg, d: d, m: newMetrics(d.Registry), now: time.Now}
}

// Register adds the routes to mux (an *http.ServeMux or borda's web server).
func (a *API) Register(mux interface{ Handle(string, http.Handler) }) {
	mux.Handle("POST /write", a.handler(v1))
	mux.Handle("POST /api/v2/write", a.handler(v2))
	mux.Handle("GET /ping", http.HandlerFunc(a.ping))
	mux.Handle("HEAD /ping", http.HandlerFunc(a.ping))
	mux.Handle("GET /health", http.HandlerFunc(a.health))
	mux.Handle("POST /query", http.HandlerFunc(a.query))
	mux.Handle("GET /query", http.HandlerFunc(a.query))
}

// dialect is what differs between the two write APIs: the name of the
// precision values and the shape of error bodies.
type dialect struct {
	name       string
	precisions map[string]time.Duration
	errorBody  func(code int, msg string) any
}

var (
	v1 = dialect{name: "v1",
		precisions: map[string]time.Duration{"": time.Nanosecond, "n": time.Nanosecond, "ns": time.Nanosecond,
			"u": time.Microsecond, "us": time.Microsecond, "µ": time.Microsecond, "ms": time.Millisecond,
			"s": time.Second, "m": time.Minute, "h": time.Hour},
		errorBody: func(_ int, msg string) any { return map[string]string{"error": msg} },
	}
	v2 = dialect{name: "v2",
		precisions: map[string]time.Duration{"": time.Nanosecond, "ns": time.Nanosecond,
			"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second},
		errorBody: func(code int, msg string) any { return map[string]string{"code": v2Code(code), "message": msg} },
	}
)

func v2Code(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid"
	case http.StatusRequestEntityTooLarge:
		return "request too large"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	return "internal error"
}

// handler serves one write request: read (and gunzip) the body within the
// limit, decode every line, store the good points, report the bad lines.
func (a *API) handler(d dialect) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, msg := a.write(r, d)
		a.m.requests.WithLabelValues(d.name, fmt.Sprint(code)).Inc()
		if code == http.StatusNoContent {
			w.WriteHeader(code)
			return
		}
		a.d.Limited.Warn("write request: "+msg, "api", d.name, "status", code, "remote", r.RemoteAddr)
		writeJSON(w, code, d.errorBody(code, msg))
	})
}

func (a *API) write(r *http.Request, d dialect) (int, string) {
	precision, ok := d.precisions[r.URL.Query().Get("precision")]
	if !ok {
		return http.StatusBadRequest, fmt.Sprintf("invalid precision %q", r.URL.Query().Get("precision"))
	}
	body, code, err := a.readBody(r)
	if err != nil {
		return code, err.Error()
	}
	a.m.bytes.Add(float64(len(body)))
	pts, decodeErr := ingest.DecodeLineProtocol(body, precision, a.now(), nil)
	rejs := ingest.Rejections(decodeErr)
	for _, rej := range rejs {
		a.m.rejected.WithLabelValues(rej.Reason).Inc()
	}
	if err := a.d.Writer.Write(r.Context(), pts); err != nil {
		return storeFailure(err)
	}
	a.m.points.Add(float64(len(pts)))
	if len(rejs) == 0 {
		return http.StatusNoContent, ""
	}
	return http.StatusBadRequest, partialWrite(len(pts), rejs)
}

// storeFailure: nothing of the request was stored (the pipeline stopped,
// the client gave up while the queue was full, or the commit failed). 503
// tells clients such as Telegraf to keep the batch and retry.
func storeFailure(err error) (int, string) {
	return http.StatusServiceUnavailable, "nothing written, retry later: " + err.Error()
}

// partialWrite describes the rejected lines (the first few in full).
func partialWrite(written int, rejs []*ingest.Rejection) string {
	const shown = 3
	msg := fmt.Sprintf("partial write: %d points written, %d lines dropped (dropped=%d)", written, len(rejs), len(rejs))
	for i, rej := range rejs {
		if i == shown {
			msg += fmt.Sprintf("; and %d more", len(rejs)-shown)
			break
		}
		msg += "; " + rej.Reason + ": " + rej.Err.Error()
	}
	return msg
}

// readBody reads the whole body, gunzipping it when the client says so,
// and refuses one larger than MaxBodyBytes after decompression.
func (a *API) readBody(r *http.Request) ([]byte, int, error) {
	var src io.Reader = r.Body
	switch r.Header.Get("Content-Encoding") {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("reading gzip body: %w", err)
		}
		defer zr.Close()
		src = zr
	default:
		return nil, http.StatusUnsupportedMediaType,
			fmt.Errorf("unsupported Content-Encoding %q (use gzip or none)", r.Header.Get("Content-Encoding"))
	}
	body, err := io.ReadAll(io.LimitReader(src, a.cfg.MaxBodyBytes+1))
	if err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("reading body: %w", err)
	}
	if int64(len(body)) > a.cfg.MaxBodyBytes {
		return nil, http.StatusRequestEntityTooLarge,
			fmt.Errorf("request body exceeds max_body_bytes (%d bytes); nothing written", a.cfg.MaxBodyBytes)
	}
	return body, 0, nil
}

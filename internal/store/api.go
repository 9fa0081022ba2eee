package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/util/annotations"
)

// maxPoints is Prometheus' limit of points per series in a range query.
const maxPoints = 11000

// Handler serves the Prometheus HTTP query API under /api/v1/ (GET, and
// POST with a form-encoded body), for Grafana's Prometheus data source and
// Prometheus API clients.
func (s *Store) Handler() http.Handler {
	mux := http.NewServeMux()
	s.Register(mux)
	return mux
}

// Register adds the /api/v1/ routes (Go 1.22 patterns such as
// "GET /api/v1/query") to mux, an *http.ServeMux or borda's *web.Server.
func (s *Store) Register(mux interface{ Handle(string, http.Handler) }) {
	routes := map[string]func(*http.Request) (any, error){
		"/api/v1/query":               s.query,
		"/api/v1/query_range":         s.queryRange,
		"/api/v1/series":              s.series,
		"/api/v1/labels":              s.labelNames,
		"/api/v1/label/{name}/values": s.labelValues,
		"/api/v1/devices":             s.devicesAPI,
		"/api/v1/status/buildinfo":    func(*http.Request) (any, error) { return buildInfo(), nil },
		"/api/v1/metadata":            func(*http.Request) (any, error) { return struct{}{}, nil },
	}
	for path, fn := range routes {
		h := s.wrap(fn)
		mux.Handle("GET "+path, h)
		mux.Handle("POST "+path, h)
	}
}

// apiResponse is the Prometheus API envelope.
type apiResponse struct {
	Status    string   `json:"status"`
	Data      any      `json:"data,omitempty"`
	ErrorType string   `json:"errorType,omitempty"`
	Error     string   `json:"error,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
	Infos     []string `json:"infos,omitempty"`
}

// withAnnotations lets an endpoint return query warnings with its data.
type withAnnotations struct {
	data  any
	annos annotations.Annotations
	query string
	// done releases the data (a query's pooled points) once the response
	// is written; nil: nothing to release.
	done func()
}

func (s *Store) wrap(fn func(*http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			writeError(w, badData(fmt.Errorf("error parsing form values: %w", err)))
			return
		}
		data, err := fn(r)
		if err != nil {
			writeError(w, err)
			return
		}
		resp := apiResponse{Status: "success", Data: data}
		if wa, ok := data.(withAnnotations); ok {
			if wa.done != nil {
				defer wa.done()
			}
			resp.Data = wa.data
			resp.Warnings, resp.Infos = wa.annos.AsStrings(wa.query, 10, 10)
		}
		writeJSON(w, http.StatusOK, resp)
	}
}

// errorType maps an error to the Prometheus errorType and HTTP status.
func errorType(err error) (string, int) {
	var (
		timeout  promql.ErrQueryTimeout
		canceled promql.ErrQueryCanceled
		storage  promql.ErrStorage
	)
	switch {
	case errors.Is(err, errBadData):
		return "bad_data", http.StatusBadRequest
	case errors.Is(err, ErrNotReady):
		return "unavailable", http.StatusServiceUnavailable
	case errors.As(err, &timeout), errors.Is(err, context.DeadlineExceeded):
		return "timeout", http.StatusServiceUnavailable
	case errors.As(err, &canceled), errors.Is(err, context.Canceled):
		return "canceled", 499 // Prometheus' "client closed request"
	case errors.As(err, &storage):
		return "internal", http.StatusInternalServerError
	}
	return "execution", http.StatusUnprocessableEntity
}

func writeError(w http.ResponseWriter, err error) {
	typ, code := errorType(err)
	writeJSON(w, code, apiResponse{Status: "error", ErrorType: typ, Error: err.Error()})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// withDB runs fn with the open DB and a context that ends with the request,
// the optional timeout parameter, or the store's shutdown.
func (s *Store) withDB(r *http.Request, fn func(context.Context, *tsdb.DB) (any, error)) (any, error) {
	ctx := r.Context()
	if v := r.FormValue("timeout"); v != "" {
		d, err := parseDuration(v)
		if err != nil {
			return nil, paramError("timeout", err)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	db, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer s.release()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.queryCtx, cancel)
	defer stop()
	return fn(ctx, db)
}

func (s *Store) query(r *http.Request) (any, error) {
	ts, err := timeParam(r.FormValue, "time", time.Now())
	if err != nil {
		return nil, err
	}
	qs := r.FormValue("query")
	return s.withDB(r, func(ctx context.Context, db *tsdb.DB) (any, error) {
		q, err := s.engine.NewInstantQuery(ctx, db, nil, qs, ts)
		if err != nil {
			return nil, paramError("query", err)
		}
		return execute(ctx, q, qs)
	})
}

func (s *Store) queryRange(r *http.Request) (any, error) {
	start, end, step, err := rangeParams(r)
	if err != nil {
		return nil, err
	}
	qs := r.FormValue("query")
	return s.withDB(r, func(ctx context.Context, db *tsdb.DB) (any, error) {
		q, err := s.engine.NewRangeQuery(ctx, db, nil, qs, start, end, step)
		if err != nil {
			return nil, paramError("query", err)
		}
		return execute(ctx, q, qs)
	})
}

func rangeParams(r *http.Request) (start, end time.Time, step time.Duration, err error) {
	for _, p := range []string{"start", "end", "step"} {
		if r.FormValue(p) == "" {
			return start, end, 0, paramError(p, errors.New("missing"))
		}
	}
	if start, err = timeParam(r.FormValue, "start", time.Time{}); err != nil {
		return
	}
	if end, err = timeParam(r.FormValue, "end", time.Time{}); err != nil {
		return
	}
	if end.Before(start) {
		return start, end, 0, paramError("end", errors.New("end timestamp must not be before start time"))
	}
	if step, err = parseDuration(r.FormValue("step")); err != nil {
		return start, end, 0, paramError("step", err)
	}
	if step <= 0 {
		return start, end, 0, paramError("step", errors.New("zero or negative query resolution step widths are not accepted. Try a positive integer"))
	}
	if end.Sub(start)/step > maxPoints {
		return start, end, 0, badData(errors.New("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"))
	}
	return start, end, step, nil
}

// queryData is the data of a query response.
type queryData struct {
	ResultType parser.ValueType `json:"resultType"`
	Result     parser.Value     `json:"result"`
}

// execute runs q. The result's points belong to the engine's pool until
// q.Close, so the query is closed (by wrap) only after the response is
// encoded: closing it first let a concurrent query overwrite the points
// being encoded.
func execute(ctx context.Context, q promql.Query, qs string) (any, error) {
	res := q.Exec(ctx)
	if res.Err != nil {
		q.Close()
		return nil, res.Err
	}
	v := res.Value
	switch m := v.(type) { // an empty result is [], never null
	case promql.Vector:
		if m == nil {
			v = promql.Vector{}
		}
	case promql.Matrix:
		if m == nil {
			v = promql.Matrix{}
		}
	}
	return withAnnotations{data: queryData{ResultType: v.Type(), Result: v}, annos: res.Warnings, query: qs, done: q.Close}, nil
}

// buildInfo answers /api/v1/status/buildinfo with the version of the
// embedded Prometheus (module v0.316.0 is Prometheus 3.16.0).
func buildInfo() map[string]string {
	version := "3.0.0"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/prometheus/prometheus" {
				version = promVersion(d.Version, version)
			}
		}
	}
	return map[string]string{
		"version": version, "revision": "", "branch": "borda",
		"buildUser": "", "buildDate": "", "goVersion": runtime.Version(),
	}
}

// promVersion maps a Prometheus module version (v0.316.0) to the release
// it is (3.16.0).
func promVersion(mod, def string) string {
	parts := strings.SplitN(strings.TrimPrefix(mod, "v0."), ".", 2)
	n, err := strconv.Atoi(parts[0])
	if err != nil || n < 100 || len(parts) != 2 {
		return def
	}
	patch, _, _ := strings.Cut(parts[1], "-")
	return fmt.Sprintf("%d.%d.%s", n/100, n%100, patch)
}

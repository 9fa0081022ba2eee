package alerts

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// API limits of /api/v1/alerts.
const (
	defaultAPILimit = 1000
	maxAPILimit     = 10000
)

var (
	errBadData     = errors.New("bad data")
	errUnavailable = errors.New("alert history is not open")
)

// apiResponse is the Prometheus API envelope, as in internal/store.
type apiResponse struct {
	Status    string `json:"status"`
	Data      any    `json:"data,omitempty"`
	ErrorType string `json:"errorType,omitempty"`
	Error     string `json:"error,omitempty"`
}

// Register adds GET /api/v1/alerts to mux (an *http.ServeMux or borda's
// web server). Parameters, all optional: device_id, type, severity, rule,
// state (firing, resolved, active), start and end (RFC 3339 or Unix
// seconds, bounding the event time), limit (1..10000, default 1000).
// Events are listed newest first from the embedded history.
func (d *Dispatcher) Register(mux interface{ Handle(string, http.Handler) }) {
	mux.Handle("GET /api/v1/alerts", http.HandlerFunc(d.serveAlerts))
}

func (d *Dispatcher) serveAlerts(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilter(r)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	h := d.embedded.Load()
	if h == nil || !d.open.Load() {
		writeAPIError(w, errUnavailable)
		return
	}
	alerts, err := h.Query(r.Context(), f)
	if err != nil {
		if !d.open.Load() {
			err = errUnavailable
		}
		writeAPIError(w, err)
		return
	}
	out := make([]alertJSON, len(alerts))
	for i := range alerts {
		out[i] = jsonAlert(&alerts[i])
	}
	writeAPI(w, http.StatusOK, apiResponse{Status: "success", Data: out})
}

func parseFilter(r *http.Request) (Filter, error) {
	q := r.URL.Query()
	f := Filter{
		DeviceID: q.Get("device_id"), Type: q.Get("type"), Severity: q.Get("severity"),
		State: q.Get("state"), Rule: q.Get("rule"), Limit: defaultAPILimit,
	}
	var errs []error
	if !validState(f.State) {
		errs = append(errs, fmt.Errorf("invalid parameter \"state\": %q is not firing, resolved or active", f.State))
	}
	var err error
	if f.Since, err = parseTime(q.Get("start")); err != nil {
		errs = append(errs, fmt.Errorf("invalid parameter \"start\": %w", err))
	}
	if f.Until, err = parseTime(q.Get("end")); err != nil {
		errs = append(errs, fmt.Errorf("invalid parameter \"end\": %w", err))
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Before(f.Since) {
		errs = append(errs, errors.New("end timestamp must not be before start time"))
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxAPILimit {
			errs = append(errs, fmt.Errorf("invalid parameter \"limit\": %q is not an integer in 1..%d", s, maxAPILimit))
		}
		f.Limit = n
	}
	if err := errors.Join(errs...); err != nil {
		return f, fmt.Errorf("%w: %w", errBadData, err)
	}
	return f, nil
}

// parseTime reads a Prometheus API time: Unix seconds (with fraction) or
// RFC 3339. Empty is the zero time (unbounded).
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 1e11 {
			return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
		}
		sec, frac := math.Modf(v)
		return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

func writeAPIError(w http.ResponseWriter, err error) {
	typ, code := "internal", http.StatusInternalServerError
	switch {
	case errors.Is(err, errBadData):
		typ, code = "bad_data", http.StatusBadRequest
	case errors.Is(err, errUnavailable):
		typ, code = "unavailable", http.StatusServiceUnavailable
	}
	msg := strings.TrimPrefix(err.Error(), errBadData.Error()+": ")
	writeAPI(w, code, apiResponse{Status: "error", ErrorType: typ, Error: msg})
}

func writeAPI(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

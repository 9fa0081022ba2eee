package store

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
)

// Bounds used when a time parameter is absent, and the strings Prometheus
// clients send for them (as Prometheus' own API does).
var (
	minTime = time.Unix(math.MinInt64/1000+62135596801, 0).UTC()
	maxTime = time.Unix(math.MaxInt64/1000-62135596801, 999999999).UTC()

	minTimeFormatted = minTime.Format(time.RFC3339Nano)
	maxTimeFormatted = maxTime.Format(time.RFC3339Nano)
)

// parseTime accepts unix seconds (with fraction) or RFC 3339, like the
// Prometheus API.
func parseTime(s string) (time.Time, error) {
	if t, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(t) || math.IsInf(t, 0) || t > float64(maxTime.Unix()) || t < float64(minTime.Unix()) {
			return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
		}
		sec, frac := math.Modf(t)
		ns := math.Round(frac*1000) * 1e6 // millisecond precision, as stored
		return time.Unix(int64(sec), int64(ns)).UTC(), nil
	}
	switch s {
	case minTimeFormatted:
		return minTime, nil
	case maxTimeFormatted:
		return maxTime, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

// parseDuration accepts seconds (with fraction) or a Prometheus duration
// (15s, 1m30s, 2d), like the Prometheus API.
func parseDuration(s string) (time.Duration, error) {
	if d, err := strconv.ParseFloat(s, 64); err == nil {
		ts := d * float64(time.Second)
		if math.IsNaN(ts) || ts > float64(math.MaxInt64) || ts < float64(math.MinInt64) {
			return 0, fmt.Errorf("cannot parse %q to a valid duration. It overflows int64", s)
		}
		return time.Duration(ts), nil
	}
	if d, err := model.ParseDuration(s); err == nil {
		return time.Duration(d), nil
	}
	return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
}

// timeParam reads form value name, def if absent.
func timeParam(form func(string) string, name string, def time.Time) (time.Time, error) {
	v := form(name)
	if v == "" {
		return def, nil
	}
	t, err := parseTime(v)
	if err != nil {
		return time.Time{}, paramError(name, err)
	}
	return t, nil
}

// errBadData marks client errors (HTTP 400, errorType bad_data).
var errBadData = errors.New("bad_data")

type badDataError struct{ err error }

func (e badDataError) Error() string   { return e.err.Error() }
func (e badDataError) Unwrap() []error { return []error{e.err, errBadData} }
func badData(err error) error          { return badDataError{err} }
func paramError(name string, err error) error {
	return badData(fmt.Errorf("invalid parameter %q: %w", name, err))
}

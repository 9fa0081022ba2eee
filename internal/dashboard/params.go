package dashboard

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits of GET /api/v1/dashboard/devices.
const (
	defaultPageSize = 50
	maxPageSize     = 500
	maxSearchLen    = 200
)

// deviceQuery is the parsed query string of the devices list.
type deviceQuery struct {
	search string // case-insensitive substring of id, type, label values or metric names
	id     string // exact device_id
	typ    string // exact device_type
	sort   string // "id" (default) or "last_seen" (newest first)
	offset int
	limit  int
}

var errBadParam = errors.New("bad parameter")

// parseDeviceQuery validates the query string, naming every bad parameter.
func parseDeviceQuery(v url.Values) (deviceQuery, error) {
	q := deviceQuery{search: strings.TrimSpace(v.Get("q")), id: v.Get("id"), typ: v.Get("type"),
		sort: v.Get("sort"), limit: defaultPageSize}
	var errs []error
	if !utf8.ValidString(q.search) || utf8.RuneCountInString(q.search) > maxSearchLen {
		errs = append(errs, fmt.Errorf("q: at most %d characters of UTF-8", maxSearchLen))
	}
	q.search = strings.ToLower(q.search)
	switch q.sort {
	case "":
		q.sort = "id"
	case "id", "last_seen":
	default:
		errs = append(errs, fmt.Errorf("sort: %q is not id or last_seen", q.sort))
	}
	var err error
	if q.offset, err = intParam(v, "offset", 0, 0, 1<<31-1); err != nil {
		errs = append(errs, err)
	}
	if q.limit, err = intParam(v, "limit", defaultPageSize, 1, maxPageSize); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return q, fmt.Errorf("%w: %w", errBadParam, errors.Join(errs...))
	}
	return q, nil
}

// intParam reads an optional integer within lo..hi.
func intParam(v url.Values, name string, def, lo, hi int) (int, error) {
	s := v.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return def, fmt.Errorf("%s: %q is not an integer in %d..%d", name, s, lo, hi)
	}
	return n, nil
}

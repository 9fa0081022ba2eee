package alerts

import (
	"encoding/json"
	"math"
	"strconv"
	"text/template"
	"time"
)

// funcs are the template helpers: json (a JSON value; NaN and ±Inf become
// null, times RFC 3339 with nanoseconds in UTC), unix (seconds, float).
var funcs = template.FuncMap{
	"json": toJSON,
	"unix": func(t time.Time) unixSeconds { return unixSeconds(float64(t.UnixNano()) / 1e9) },
}

// unixSeconds prints as a plain decimal (1700000000.5, not 1.7e+09).
type unixSeconds float64

func (u unixSeconds) String() string { return strconv.FormatFloat(float64(u), 'f', -1, 64) }

func toJSON(v any) (string, error) {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "null", nil
		}
	case time.Time:
		v = x.UTC().Format(time.RFC3339Nano)
	}
	b, err := json.Marshal(v)
	return string(b), err
}

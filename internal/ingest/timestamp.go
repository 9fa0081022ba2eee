package ingest

import (
	"math"
	"strconv"
	"time"
)

// Timestamps in payloads.
//
// A JSON payload may carry its time in a top-level "ts", "time" or
// "timestamp" member (never stored as a field; null is ignored):
//
//   - a string: RFC 3339 with or without fractional seconds
//     ("2024-11-24T22:53:00Z", "2024-11-24T22:53:00.123+01:00"), or the same
//     without a zone offset ("2024-11-24T22:53:00.123456", what Python's
//     datetime.isoformat() writes), which is read as UTC;
//   - a number of seconds, milliseconds, microseconds or nanoseconds since
//     the Unix epoch, told apart by magnitude:
//     v < 1e11 → seconds (fraction allowed; 1e11 s is the year 5138),
//     v < 1e14 → milliseconds (1e11 ms is 1973-03-03),
//     v < 1e17 → microseconds (1e14 µs is 1973-03-03),
//     otherwise → nanoseconds (1e17 ns is 1973-03-03).
//     Integer literals are converted exactly; fractional ones to the nearest
//     nanosecond that float64 can tell.
//
// Every timestamp (JSON or line protocol) must fall in [minTime, maxTime]:
// earlier values come from devices whose clock is unset (0, uptime counters)
// and later ones do not fit int64 nanoseconds. Anything else is rejected
// with reason bad_timestamp.

var (
	minTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Unix(0, math.MaxInt64).UTC()
)

// isTimeKey reports whether a top-level JSON member holds the timestamp.
func isTimeKey(k []byte) bool {
	switch string(k) {
	case "ts", "time", "timestamp":
		return true
	}
	return false
}

func checkTime(t time.Time) (time.Time, *Rejection) {
	if t.Before(minTime) || t.After(maxTime) {
		return time.Time{}, reject(ReasonBadTimestamp, "timestamp %s is outside [2000-01-01, 2262-04-11]", t.Format(time.RFC3339Nano))
	}
	return t, nil
}

// stringTime parses an RFC 3339 timestamp, or one without a zone as UTC.
func stringTime(s []byte) (time.Time, *Rejection) {
	t, err := time.Parse(time.RFC3339Nano, string(s))
	if err != nil {
		var err2 error
		t, err2 = time.Parse("2006-01-02T15:04:05.999999999", string(s))
		if err2 != nil {
			return time.Time{}, reject(ReasonBadTimestamp, "timestamp %s is not RFC 3339", quoteShort(s))
		}
	}
	return checkTime(t.UTC())
}

// numberTime converts a JSON number literal (already validated) into a time.
func numberTime(lit []byte) (time.Time, *Rejection) {
	if isInteger(lit) {
		v, err := strconv.ParseInt(string(lit), 10, 64)
		if err != nil {
			return time.Time{}, reject(ReasonBadTimestamp, "timestamp %s overflows int64", quoteShort(lit))
		}
		return intTime(v)
	}
	v, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		return time.Time{}, reject(ReasonBadTimestamp, "timestamp %s is not a number", quoteShort(lit))
	}
	return floatTime(v)
}

func isInteger(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	return len(b) > 0 && skipDigits(b, 0) == len(b)
}

func intTime(v int64) (time.Time, *Rejection) {
	var t time.Time
	switch {
	case v < 0:
		return time.Time{}, reject(ReasonBadTimestamp, "negative timestamp %d", v)
	case v < 1e11:
		t = time.Unix(v, 0)
	case v < 1e14:
		t = time.UnixMilli(v)
	case v < 1e17:
		t = time.UnixMicro(v)
	default:
		t = time.Unix(0, v)
	}
	return checkTime(t.UTC())
}

func floatTime(v float64) (time.Time, *Rejection) {
	if !(v >= 0) || v >= math.MaxInt64 { // also catches NaN
		return time.Time{}, reject(ReasonBadTimestamp, "timestamp %g out of range", v)
	}
	whole, frac := math.Modf(v)
	w := int64(whole)
	var t time.Time
	switch {
	case v < 1e11:
		t = time.Unix(w, 0).Add(time.Duration(math.Round(frac * 1e9)))
	case v < 1e14:
		t = time.UnixMilli(w).Add(time.Duration(math.Round(frac * 1e6)))
	case v < 1e17:
		t = time.UnixMicro(w).Add(time.Duration(math.Round(frac * 1e3)))
	default:
		t = time.Unix(0, w)
	}
	return checkTime(t.UTC())
}

// lineTime converts a line-protocol timestamp in units of precision.
func lineTime(v int64, precision time.Duration) (time.Time, *Rejection) {
	if v < 0 {
		return time.Time{}, reject(ReasonBadTimestamp, "negative timestamp %d", v)
	}
	p := int64(precision)
	if v > math.MaxInt64/p {
		return time.Time{}, reject(ReasonBadTimestamp, "timestamp %d overflows int64 nanoseconds at precision %s", v, precision)
	}
	return checkTime(time.Unix(0, v*p).UTC())
}
